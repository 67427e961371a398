"""On PostgreSQL, refuse in the database any change to a published version's content.

The model's save() refuses too; this also stops bulk updates and hand-written SQL.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLES = ("intake_questionnaireversion", "intake_screeningrulesetversion")

CREATE = """
CREATE OR REPLACE FUNCTION intake_version_frozen() RETURNS trigger AS $$
BEGIN
    IF OLD.status <> 'draft' AND (
        NEW.definition IS DISTINCT FROM OLD.definition OR NEW.number <> OLD.number
    ) THEN
        RAISE EXCEPTION '% % is %: its content cannot change', TG_TABLE_NAME, OLD.id,
            OLD.status USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def frozen_on(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION intake_version_frozen()"
        )


def frozen_off(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS intake_version_frozen()")


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(frozen_on, frozen_off)]

"""The audit trail of staff reads is append-only, refused by the database itself:
a row may be added, never changed or deleted. The one change allowed is the one
Django makes when a submission is erased: its link is cleared (SET_NULL), while
the submission's code, the reader, what and when stay."""

from typing import Any

from django.db import migrations

TABLE = "intake_healthdataaccess"
SAME_OTHERWISE = (
    "NEW.id = OLD.id AND NEW.submission_code = OLD.submission_code "
    "AND NEW.user_id = OLD.user_id AND NEW.what = OLD.what "
    "AND NEW.accessed_at = OLD.accessed_at"
)
LINK_CLEARED = (
    f"OLD.submission_id IS NOT NULL AND NEW.submission_id IS NULL AND {SAME_OTHERWISE}"
)
MESSAGE = "health data access rows are append-only"

POSTGRESQL = [
    f"""
    CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'UPDATE' AND {LINK_CLEARED} THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'insufficient_privilege';
    END
    $$ LANGUAGE plpgsql
    """,
    f"""
    CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()
    """,
]
POSTGRESQL_UNDO = [
    f"DROP TRIGGER {TABLE}_append_only ON {TABLE}",
    f"DROP FUNCTION {TABLE}_append_only()",
]
SQLITE = [
    f"""
    CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE}
    WHEN NOT ({LINK_CLEARED})
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_UNDO = [
    f"DROP TRIGGER {TABLE}_no_update",
    f"DROP TRIGGER {TABLE}_no_delete",
]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("intake", "0013_notes_encrypted")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRESQL, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRESQL_UNDO, "sqlite": SQLITE_UNDO}),
        )
    ]

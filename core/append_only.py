"""Tables the database itself keeps append-only (the audit trails): a migration
step that adds triggers refusing every DELETE and every UPDATE except the ones
named, on PostgreSQL and SQLite."""

from typing import Any

from django.db import migrations

# Set (SET LOCAL) by a key rotation's transaction: ciphertext may then change.
KEY_ROTATION_SETTING = "clinic.key_rotation"


def append_only(
    table: str, *, update_allowed_when: str, rotation_allowed_when: str = ""
) -> Any:
    """A RunPython step (and its undo) for `table`: a row may be inserted, never
    deleted, and updated only when `update_allowed_when` (SQL over OLD and NEW,
    valid on both databases) holds, or, inside a key rotation (on PostgreSQL the
    transaction sets KEY_ROTATION_SETTING; SQLite, for development only, cannot
    tell), when `rotation_allowed_when` does."""
    message = f"{table} rows are append-only"
    postgresql_when = sqlite_when = update_allowed_when
    if rotation_allowed_when:
        rotating = f"current_setting('{KEY_ROTATION_SETTING}', true) = 'on'"
        postgresql_when += f" OR ({rotating} AND {rotation_allowed_when})"
        sqlite_when += f" OR ({rotation_allowed_when})"
    forwards = {
        "postgresql": [
            f"""
            CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'UPDATE' AND ({postgresql_when}) THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION '{message}' USING ERRCODE = 'insufficient_privilege';
            END
            $$ LANGUAGE plpgsql
            """,
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {table}_append_only()
            """,
        ],
        "sqlite": [
            f"""
            CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table}
            WHEN NOT ({sqlite_when})
            BEGIN SELECT RAISE(ABORT, '{message}'); END
            """,
            f"""
            CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{message}'); END
            """,
        ],
    }
    backwards = {
        "postgresql": [
            f"DROP TRIGGER {table}_append_only ON {table}",
            f"DROP FUNCTION {table}_append_only()",
        ],
        "sqlite": [
            f"DROP TRIGGER {table}_no_update",
            f"DROP TRIGGER {table}_no_delete",
        ],
    }

    def run(statements: dict[str, list[str]]) -> Any:
        def step(apps: Any, schema_editor: Any) -> None:
            for statement in statements.get(schema_editor.connection.vendor, []):
                schema_editor.execute(statement)

        return step

    return migrations.RunPython(run(forwards), run(backwards))

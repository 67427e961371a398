"""A trigram index for the queue's name search (PostgreSQL only).

The list searches names with `full_name__icontains`, which PostgreSQL runs as
UPPER(full_name::text) LIKE UPPER('%...%'): a GIN trigram index on that expression
serves it. SQLite (make run) gets nothing; its tables are small.
"""

from django.db import migrations

INDEX = "lead_name_trgm_idx"


def _create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may add it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON leads_lead "
        "USING gin ((UPPER(full_name::text)) gin_trgm_ops)"
    )


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # The extension stays: other indexes may use it.
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_leads_pipeline")]

    operations = [migrations.RunPython(_create, _drop, elidable=False)]

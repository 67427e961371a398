"""Plans for the queue at a million leads (bench/leads_queue.py).

A name search (UPPER(full_name) LIKE '%...%', the trigram index of 0003) with the
default statistics guessed twice the matches it has, so PostgreSQL walked the
deadline index filtering every row instead of reading the few matches; a finer
sample of that expression gives it their number. The lone index on location_id
goes: the composite ones start with it, and the planner kept ANDing half the
table's rows from it into those few matches.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "lead_name_trgm_idx"
# Column 1 of an expression index is the expression: its sample for ANALYZE.
STATISTICS = 1000


def _finer(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER INDEX {INDEX} ALTER COLUMN 1 SET STATISTICS {STATISTICS}"
    )


def _default(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER INDEX {INDEX} ALTER COLUMN 1 SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("clinics", "0005_api_tokens"),
        ("leads", "0016_timeline_append_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="lead",
            name="location",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="leads",
                to="clinics.location",
                verbose_name="location",
            ),
        ),
        migrations.RunPython(_finer, _default, elidable=False),
    ]

"""Two bookings of one practitioner never overlap, buffers included, unless one is
cancelled: PostgreSQL refuses the second (an exclusion constraint over the blocked
time range). SQLite, the zero-setup stack, serialises its writes, and the booking
service checks for overlap inside that one transaction instead.

CREATE EXTENSION needs a role allowed to create it (the database owner on
PostgreSQL 13 and later, as btree_gist is a trusted extension).
"""

from django.db import migrations

CONSTRAINT = "booking_no_double_booking"


def constraint_add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE booking_booking ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(practitioner_id WITH =, tstzrange(blocked_from, blocked_until, '[)') WITH &&)"
        " WHERE (status <> 'cancelled')"
    )


def constraint_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE booking_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]

    operations = [migrations.RunPython(constraint_add, constraint_drop)]

"""The clinic's default follow-ups (followups/defaults.py), editable after."""

from typing import Any

from django.db import migrations

from followups.defaults import defaults_install


def defaults_write(apps: Any, schema_editor: Any) -> None:
    defaults_install(
        apps.get_model("followups", "MessageTemplate"),
        apps.get_model("followups", "Sequence"),
        apps.get_model("followups", "Step"),
    )


class Migration(migrations.Migration):
    dependencies = [("followups", "0001_initial")]

    operations = [migrations.RunPython(defaults_write, migrations.RunPython.noop)]

"""The configuration requests cache (core.config_cache): a change renews the token."""

from django.db import migrations

from core.config_cache import config_stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_config_stamp"),
        ("followups", "0005_followupmessage_claimed_by"),
    ]

    operations = [
        config_stamp_trigger("followups_sequence"),
        config_stamp_trigger("followups_step"),
    ]

"""The configuration requests cache (core.config_cache): a change renews the token."""

from django.db import migrations

from core.config_cache import config_stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_config_stamp"),
        ("clinics", "0005_api_tokens"),
    ]

    operations = [
        config_stamp_trigger("leads_location"),
        config_stamp_trigger("leads_practitioner"),
        config_stamp_trigger("leads_practitioner_locations"),
    ]

"""The configuration requests cache (core.config_cache): a change renews the token."""

from django.db import migrations

from core.config_cache import config_stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_config_stamp"),
        ("leads", "0018_lead_status_counts"),
    ]

    operations = [
        # Not last_assigned: round robin writes it with each lead, under a lock.
        config_stamp_trigger(
            "leads_assignmentrule",
            columns=(
                "name",
                "position",
                "is_active",
                "location_id",
                "language",
                "treatment",
                "strategy",
            ),
        ),
        config_stamp_trigger("leads_webhookendpoint"),
    ]

"""The configuration requests cache (core.config_cache): a change renews the token."""

from django.db import migrations

from core.config_cache import config_stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_config_stamp"),
        ("booking", "0008_calendarsync_claimed_by"),
    ]

    operations = [
        config_stamp_trigger("booking_appointmenttype"),
        config_stamp_trigger("booking_appointmenttype_practitioners"),
        config_stamp_trigger("booking_weeklyavailability"),
        config_stamp_trigger("booking_availabilityexception"),
        config_stamp_trigger("booking_holiday"),
    ]

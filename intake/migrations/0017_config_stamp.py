"""The configuration requests cache (core.config_cache): a change renews the token."""

from django.db import migrations

from core.config_cache import config_stamp_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0004_config_stamp"),
        ("intake", "0016_resumeemail_claimed_by"),
    ]

    operations = [
        config_stamp_trigger("intake_questionnaire"),
        config_stamp_trigger("intake_questionnaireversion"),
        config_stamp_trigger("intake_screeningruleset"),
        config_stamp_trigger("intake_screeningrulesetversion"),
    ]

"""The audit trail of staff reads is append-only, refused by the database itself:
a row may be added, never changed or deleted. The one change allowed is the one
Django makes when a submission is deleted: its link is cleared (SET_NULL), while
the submission's code, the reader, what and when stay."""

from django.db import migrations

import core.append_only


class Migration(migrations.Migration):
    dependencies = [("intake", "0013_notes_encrypted")]

    operations = [
        core.append_only.append_only(
            "intake_healthdataaccess",
            update_allowed_when=(
                "OLD.submission_id IS NOT NULL AND NEW.submission_id IS NULL "
                "AND NEW.id = OLD.id AND NEW.submission_code = OLD.submission_code "
                "AND NEW.user_id = OLD.user_id AND NEW.what = OLD.what "
                "AND NEW.accessed_at = OLD.accessed_at"
            ),
        )
    ]

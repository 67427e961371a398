"""The lead timeline, the record of what staff did, is append-only, refused by
the database itself. The changes allowed: a merge moves events to the surviving
lead; an erasure blanks the words a person wrote; deleting a user or a submission
clears the link to them; a key rotation re-encrypts the words. What happened, and
when, never changes."""

from django.db import migrations

import core.append_only


SAME_EVENT = (
    "NEW.id = OLD.id AND NEW.kind = OLD.kind "
    "AND NEW.created_at = OLD.created_at AND NEW.data = OLD.data "
    "AND (NEW.actor_id IS NULL OR NEW.actor_id = OLD.actor_id) "
    "AND (NEW.submission_id IS NULL OR NEW.submission_id = OLD.submission_id)"
)


class Migration(migrations.Migration):
    dependencies = [("leads", "0015_outbox_claimed_by")]

    operations = [
        core.append_only.append_only(
            "leads_leadevent",
            update_allowed_when=f"{SAME_EVENT} AND (NEW.text = OLD.text OR NEW.text = '')",
            # The same words under the newest key (intake.services.encryption).
            rotation_allowed_when=SAME_EVENT,
        )
    ]

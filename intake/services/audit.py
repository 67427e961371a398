"""The audit trail of staff reads of health data.

Written by intake.services.health, the one door for those reads, before it shows
what was read (the rule dry run writes its own `dry_run` rows).
"""

import uuid
from collections.abc import Iterable

from django.contrib.auth.models import AnonymousUser, User

from intake.models import HealthDataAccess, Submission


def health_data_access_record(
    *, submission: Submission, user: User | AnonymousUser, what: str
) -> HealthDataAccess:
    """Write who read which health data of a submission, now. Call before showing it."""
    if not user.is_authenticated:
        raise PermissionError("Health data is read by signed-in staff only.")
    return HealthDataAccess.objects.create(
        submission=submission, submission_code=submission.code, user=user, what=what
    )


def health_data_access_record_many(
    *, submissions: Iterable[tuple[int, uuid.UUID]], user: User, what: str
) -> None:
    """Write one audit row per (submission id, code) read together, in one INSERT
    (none for none). Call before showing what was read."""
    HealthDataAccess.objects.bulk_create(
        HealthDataAccess(
            submission_id=submission_id,
            submission_code=code,
            user=user,
            what=what,
        )
        for submission_id, code in submissions
    )

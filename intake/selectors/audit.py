"""The audit trail of staff reads of health data, as an auditor exports it."""

import datetime as dt
from collections.abc import Iterator

from intake.models import HealthDataAccess

# (when, who, what, whose): the submission by its code, never the person's name.
AuditEntry = tuple[dt.datetime, str, str, str]


def health_data_access_entries(
    *, since: dt.datetime, until: dt.datetime
) -> Iterator[AuditEntry]:
    """Every read from `since` (inclusive) to `until` (exclusive), oldest first,
    in chunks so that a year of reads streams in flat memory."""
    rows = (
        HealthDataAccess.objects.filter(accessed_at__gte=since, accessed_at__lt=until)
        .order_by("accessed_at", "pk")
        .values_list("accessed_at", "user__username", "what", "submission_code")
    )
    for accessed_at, username, what, code in rows.iterator(chunk_size=2000):
        yield accessed_at, username, f"read {what}", f"submission {code}"

"""The queue as CSV, written a chunk of rows at a time so that memory stays flat.

Contact and pipeline columns only; with the screening column every exported lead's
newest submission is written to the health-data audit log before its row is sent.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.contrib.auth.models import User

from intake.models import HealthDataAccess
from intake.services.audit import health_data_access_record_many
from leads.selectors import lead_treatment_map

CHUNK_ROWS = 2000

COLUMNS = (
    "code",
    "full_name",
    "email",
    "phone",
    "preferred_language",
    "status",
    "lost_reason",
    "priority",
    "score",
    "location",
    "owner",
    "first_contact_due_at",
    "first_contacted_at",
    "overdue",
    "created_at",
    "last_submitted_at",
)
SCREENING_COLUMN = "screening"

# A cell a spreadsheet would run as a formula; names come from the public form.
_FORMULA_STARTS = ("=", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    formula = text.startswith(_FORMULA_STARTS) or (
        text.startswith("+") and not text[1:].isdigit()
    )
    return "'" + text if formula else text


def _row(lead: dict[str, Any], *, now: dt.datetime) -> list[str]:
    owner = " ".join(
        part for part in (lead["owner__first_name"], lead["owner__last_name"]) if part
    )
    values = (
        lead["code"],
        lead["full_name"],
        lead["email"],
        lead["phone"],
        lead["preferred_language"],
        lead["status"],
        lead["lost_reason"],
        lead["priority"],
        lead["score"],
        lead["location__slug"],
        owner or lead["owner__username"],
        lead["first_contact_due_at"],
        lead["first_contacted_at"],
        lead["first_contacted_at"] is None and lead["first_contact_due_at"] < now,
        lead["created_at"],
        lead["last_submitted_at"],
    )
    return [_cell(value) for value in values]


def _screening_reads_record(leads: list[dict[str, Any]], *, user: User) -> None:
    """One audit row per lead's newest submission, in one INSERT for the chunk."""
    health_data_access_record_many(
        submissions=(
            (lead["latest_submission_id"], lead["latest_submission_code"])
            for lead in leads
            if lead["latest_submission_id"] is not None
        ),
        user=user,
        what=HealthDataAccess.What.SCREENING,
    )


def _rows(
    chunk: list[dict[str, Any]], *, user: User, now: dt.datetime, with_screening: bool
) -> list[list[str]]:
    rows = [_row(lead, now=now) for lead in chunk]
    if with_screening:
        _screening_reads_record(chunk, user=user)
        treatments = lead_treatment_map(lead_ids=[lead["id"] for lead in chunk])
        for row, lead in zip(rows, chunk, strict=True):
            row.append(
                "; ".join(f"{t}={outcome}" for t, outcome in treatments[lead["id"]])
            )
    return rows


def lead_csv_stream(
    leads: Iterable[dict[str, Any]],
    *,
    user: User,
    now: dt.datetime,
    with_screening: bool,
) -> Iterator[str]:
    """The header, then the rows of `leads` (lead_export_list's), a chunk of
    CHUNK_ROWS at a time. With the screening column each chunk is audited before
    any of its rows is yielded."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, SCREENING_COLUMN] if with_screening else COLUMNS)
    rows = iter(leads)
    while True:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        chunk = list(islice(rows, CHUNK_ROWS))
        if not chunk:
            return
        writer.writerows(
            _rows(chunk, user=user, now=now, with_screening=with_screening)
        )

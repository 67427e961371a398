"""The queue as CSV, streamed a chunk of rows at a time so that memory stays flat.

Contact and pipeline columns only. The screening column (include_health=true) is
for physicians and clinic admins: each chunk's leads' newest submissions are
written to the health-data audit log, through intake's health door, before any of
its rows is sent. A database that fails mid-stream aborts the response, so that a
cut file never passes for a whole one.
"""

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.contrib.auth.models import User
from django.db import DatabaseError
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from clinics.models import StaffMember
from clinics.permissions import IsStaffMember
from clinics.selectors import staff_role_get
from core.spreadsheets import csv_cell
from intake.services.health import (
    health_read_check,
    submission_screening_reads_record,
)
from leads.api.common import ERROR, request_user
from leads.api.queue import LeadFilterInputSerializer, lead_filters_from
from leads.selectors import LEAD_ORDERINGS, lead_export_list, lead_treatment_map

logger = logging.getLogger(__name__)

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
    return [csv_cell(value) for value in values]


def _rows(
    chunk: list[dict[str, Any]], *, user: User, now: dt.datetime, with_screening: bool
) -> list[list[str]]:
    rows = [_row(lead, now=now) for lead in chunk]
    if with_screening:
        # One audit row per lead's newest submission, in one INSERT for the chunk.
        submission_screening_reads_record(
            user=user,
            submission_ids=[
                lead["latest_submission_id"]
                for lead in chunk
                if lead["latest_submission_id"] is not None
            ],
        )
        treatments = lead_treatment_map(lead_ids=[lead["id"] for lead in chunk])
        for row, lead in zip(rows, chunk, strict=True):
            row.append(
                "; ".join(f"{t}={outcome}" for t, outcome in treatments[lead["id"]])
            )
    return rows


class ExportCutShort(Exception):
    """The database failed while an export was being sent.

    Raised out of the stream on purpose: the server then ends the connection
    without the last, empty chunk of the chunked body, so every HTTP client sees
    an incomplete download (curl: "transfer closed with outstanding read data
    remaining", requests: ChunkedEncodingError, a browser: a failed download)
    rather than a shorter file that looks whole.
    """


def lead_csv_stream(
    leads: Iterable[dict[str, Any]],
    *,
    user: User,
    now: dt.datetime,
    with_screening: bool,
) -> Iterator[str]:
    """The header, then the rows of `leads` (lead_export_list's), a chunk of
    CHUNK_ROWS at a time. With the screening column each chunk is audited before
    any of its rows is yielded. A database error after the header has gone out
    raises ExportCutShort, which aborts the response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*COLUMNS, SCREENING_COLUMN] if with_screening else COLUMNS)
    rows = iter(leads)
    sent = 0
    while True:
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        try:
            chunk = list(islice(rows, CHUNK_ROWS))
            if not chunk:
                return
            writer.writerows(
                _rows(chunk, user=user, now=now, with_screening=with_screening)
            )
        except DatabaseError as error:
            logger.warning(
                "lead export cut short after %s rows (%s)", sent, type(error).__name__
            )
            # No message: a database error can quote the values of a row.
            raise ExportCutShort from None
        sent += len(chunk)


class LeadExportInputSerializer(LeadFilterInputSerializer):
    include_health = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Add each lead's screening outcomes (physicians and clinic "
        "admins only; every exported submission is written to the audit log).",
    )


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the view streams."""

    media_type = "text/csv"
    format = "csv"


class LeadExportApi(APIView):
    """The filtered queue as CSV, streamed (no pagination; 100,000 rows are fine).

    Needs the clinic admin role or the `leads.export_lead` permission. The
    screening column (include_health=true) is for physicians and clinic admins and
    writes one audit row per exported lead's newest submission.
    """

    permission_classes = [IsStaffMember]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # Errors are JSON whatever the client accepts; the CSV bypasses renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="leads_export",
        parameters=[LeadExportInputSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="A header row, then one row per lead, in the order asked.",
            ),
            400: ERROR,
            403: ERROR,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        user = request_user(request)
        if not (
            staff_role_get(user) == StaffMember.Role.CLINIC_ADMIN
            or user.has_perm("leads.export_lead")
        ):
            raise PermissionDenied("Exporting leads needs the export permission.")
        params = LeadExportInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        with_screening = data["include_health"]
        if with_screening:
            # Refused here, as JSON: once streaming, the status is already 200.
            health_read_check(user=user)
        now = timezone.now()
        leads = lead_export_list(
            user=user,
            filters=lead_filters_from(data, user=user),
            ordering=LEAD_ORDERINGS[data["ordering"]],
            now=now,
            with_latest_submission=with_screening,
        )
        response = StreamingHttpResponse(
            lead_csv_stream(
                leads.iterator(chunk_size=CHUNK_ROWS),
                user=user,
                now=now,
                with_screening=with_screening,
            ),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response

"""The audit log as CSV for the clinic admin: every staff read of health data
and every change staff made to a lead, oldest first, in one stream."""

import csv
import heapq
from collections.abc import Iterator
from typing import cast

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from clinics.models import StaffMember
from clinics.selectors import staff_role_get
from core.spreadsheets import csv_cell
from intake.selectors.audit import health_data_access_entries
from leads.selectors import lead_change_entries
from staff.access import staff_required
from staff.views.dashboard import RangeForm, day_bounds


class _Line:
    """csv.writer's file: hands back each written line."""

    def write(self, line: str) -> str:
        return line


@staff_required
def audit_csv(request: HttpRequest) -> HttpResponse:
    """The log from `since` to `until` (dates, both included; the last 90 days
    when unset). Clinic admins only: it says who looked at whose data."""
    if staff_role_get(cast(User, request.user)) != StaffMember.Role.CLINIC_ADMIN:
        raise PermissionDenied
    form = RangeForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        errors = form.errors.as_text()
        return HttpResponse(errors, status=400, content_type="text/plain")
    since, until = form.days()
    start, end = day_bounds(since, until)

    def lines() -> Iterator[str]:
        out = csv.writer(_Line())
        yield out.writerow(["when", "who", "what", "whose"])
        entries = heapq.merge(
            health_data_access_entries(since=start, until=end),
            lead_change_entries(since=start, until=end),
            key=lambda entry: entry[0],
        )
        for entry in entries:
            yield out.writerow([csv_cell(value) for value in entry])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="audit-{since:%Y%m%d}-{until:%Y%m%d}.csv"'
    )
    return response

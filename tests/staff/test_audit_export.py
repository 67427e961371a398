"""The clinic admin downloads the audit log: who read whose health data and who
changed which lead, oldest first; nobody else may."""

import csv
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion
from intake.services.audit import health_data_access_record
from leads.services.timeline import lead_note_add
from tests.support.staff_api import staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rows(client: Client, query: str = "") -> list[list[str]]:
    response = client.get(f"/staff/audit.csv{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


def test_the_log_lists_reads_and_changes_in_order_and_names_nobody(
    published: QuestionnaireVersion, location: Location
) -> None:
    submission = submit(published, full_name="Ayla Yıldız")
    lead = lead_of(submission)
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location], username="dr")
    coordinator = staff(locations=[location], username="elif")
    health_data_access_record(submission=submission, user=physician, what="answers")
    lead_note_add(lead=lead, text="Call after six.", actor=coordinator)
    admin = staff(StaffMember.Role.CLINIC_ADMIN, username="boss")

    header, *rows = _rows(_signed_in(admin))

    assert header == ["when", "who", "what", "whose"]
    assert [row[1:] for row in rows] == [
        ["dr", "read answers", f"submission {submission.code}"],
        ["elif", "note", f"lead {lead.reference}"],
    ]
    assert rows[0][0] <= rows[1][0]
    body = str(rows)
    assert "Ayla" not in body
    assert "Call after six." not in body


def test_a_range_before_anything_happened_gives_the_header_alone(
    published: QuestionnaireVersion, location: Location
) -> None:
    submission = submit(published)
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])
    health_data_access_record(submission=submission, user=physician, what="answers")
    admin = staff(StaffMember.Role.CLINIC_ADMIN)

    rows = _rows(_signed_in(admin), "?since=2020-01-01&until=2020-12-31")

    assert rows == [["when", "who", "what", "whose"]]


def test_a_backwards_range_is_refused_with_the_reason() -> None:
    admin = staff(StaffMember.Role.CLINIC_ADMIN)

    response = _signed_in(admin).get(
        "/staff/audit.csv?since=2026-02-01&until=2026-01-01"
    )

    assert response.status_code == 400
    assert "The end comes before the start." in response.content.decode()


@pytest.mark.parametrize(
    "role", [StaffMember.Role.COORDINATOR, StaffMember.Role.PHYSICIAN]
)
def test_only_the_clinic_admin_may_download_it(location: Location, role: str) -> None:
    user = staff(role, locations=[location])

    assert _signed_in(user).get("/staff/audit.csv").status_code == 403
    assert Client().get("/staff/audit.csv").status_code == 302

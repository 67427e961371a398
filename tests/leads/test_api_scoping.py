"""Staff see the leads of their own locations only; another location's lead is a 404."""

import csv
import io
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from leads.models import Lead, LeadEvent
from tests.support.factories import LeadFactory, LocationFactory, StaffUserFactory
from tests.support.staff_api import api_key_for, client_for, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic_a(location: Location) -> Location:
    return location


@pytest.fixture
def clinic_b(db: None) -> Location:
    return LocationFactory.create(slug="kadikoy", name="Kadıköy Clinic")


@pytest.fixture
def lead_a(clinic_a: Location) -> Lead:
    return LeadFactory.create(location=clinic_a, full_name="Ayşe Yılmaz")


@pytest.fixture
def lead_b(clinic_b: Location) -> Lead:
    return LeadFactory.create(
        location=clinic_b,
        full_name="Berna Kaya",
        email="berna.kaya@example.com",
        email_key="berna.kaya@example.com",
        phone="+905551112233",
    )


@pytest.fixture
def coordinator_a(clinic_a: Location) -> User:
    return staff(locations=[clinic_a], lead_coordinator=True, may_export=True)


def _codes(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    return {item["code"] for item in response.json()["results"]}


# Every way to reach one lead: (method, path after the code, body).
LEAD_ENDPOINTS = [
    ("get", "", None),
    ("get", "/timeline", None),
    ("get", "/health", None),
    ("post", "/transition", {"to_status": "contacted"}),
    ("post", "/assign", {"owner": None}),
    ("post", "/notes", {"text": "Called, no answer."}),
    ("post", "/calls", {"outcome": "reached", "summary": "Spoke to her."}),
    ("post", "/merge", {"duplicate": "00000000-0000-0000-0000-000000000000"}),
    (
        "post",
        "/decisions",
        {"treatment": "mesotherapy", "decision": "cleared", "note": "Fine."},
    ),
]


@pytest.mark.parametrize(("method", "suffix", "body"), LEAD_ENDPOINTS)
@pytest.mark.parametrize(
    "role", [StaffMember.Role.COORDINATOR, StaffMember.Role.PHYSICIAN]
)
def test_another_locations_lead_answers_404_and_stays_untouched(
    clinic_a: Location,
    lead_b: Lead,
    role: str,
    method: str,
    suffix: str,
    body: dict[str, Any] | None,
) -> None:
    user = staff(role, locations=[clinic_a], lead_coordinator=True)
    events_before = LeadEvent.objects.filter(lead=lead_b).count()

    response = getattr(client_for(user), method)(
        f"/api/v1/leads/{lead_b.code}{suffix}", body, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "Berna" not in response.content.decode()
    lead_b.refresh_from_db()
    assert lead_b.status == Lead.Status.NEW
    assert LeadEvent.objects.filter(lead=lead_b).count() == events_before


def test_a_lead_that_does_not_exist_answers_like_another_locations_lead(
    coordinator_a: User, lead_b: Lead
) -> None:
    client = client_for(coordinator_a)
    hidden = client.get(f"/api/v1/leads/{lead_b.code}")
    missing = client.get("/api/v1/leads/00000000-0000-0000-0000-000000000000")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()


def test_another_locations_lead_cannot_be_merged_into_your_own(
    coordinator_a: User, lead_a: Lead, lead_b: Lead
) -> None:
    response = client_for(coordinator_a).post(
        f"/api/v1/leads/{lead_a.code}/merge",
        {"duplicate": str(lead_b.code)},
        format="json",
    )

    assert response.status_code == 404
    assert response.json()["fields"] == {"duplicate": ["No such lead."]}
    lead_b.refresh_from_db()
    assert lead_b.merged_into is None


def test_the_queue_shows_only_your_locations_leads(
    coordinator_a: User, lead_a: Lead, lead_b: Lead
) -> None:
    client = client_for(coordinator_a)

    assert _codes(client.get("/api/v1/leads")) == {str(lead_a.code)}
    assert _codes(client.get("/api/v1/leads?location=kadikoy")) == set()


@pytest.mark.parametrize(
    "search", ["Berna", "berna.kaya@example.com", "+90 555 111 22 33", "05551112233"]
)
def test_searching_never_finds_another_locations_lead(
    coordinator_a: User, lead_b: Lead, search: str
) -> None:
    response = client_for(coordinator_a).get("/api/v1/leads", {"q": search})

    assert _codes(response) == set()


def test_the_same_searches_find_the_lead_for_a_clinic_admin(lead_b: Lead) -> None:
    admin = client_for(staff(StaffMember.Role.CLINIC_ADMIN))
    for search in ("Berna", "berna.kaya@example.com", "+90 555 111 22 33"):
        response = admin.get("/api/v1/leads", {"q": search})
        assert _codes(response) == {str(lead_b.code)}, search


def test_an_export_holds_only_your_locations_leads(
    coordinator_a: User, lead_a: Lead, lead_b: Lead
) -> None:
    response: Any = client_for(coordinator_a).get("/api/v1/leads/export.csv")

    assert response.status_code == 200
    assert response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["code"] for row in rows] == [str(lead_a.code)]
    assert "Berna" not in text


def test_clinic_admins_and_superusers_see_every_location(
    lead_a: Lead, lead_b: Lead
) -> None:
    admin = staff(StaffMember.Role.CLINIC_ADMIN)
    superuser = StaffUserFactory.create(is_superuser=True)
    for user in (admin, superuser):
        codes = _codes(client_for(user).get("/api/v1/leads"))
        assert codes == {str(lead_a.code), str(lead_b.code)}


@pytest.mark.parametrize(
    "path", ["/api/v1/leads", "/api/v1/leads/export.csv", "/api/v1/leads/{code}"]
)
def test_a_login_without_a_staff_role_is_refused_everywhere(
    lead_a: Lead, path: str
) -> None:
    user = StaffUserFactory.create()  # is_staff, but no StaffMember row

    response = client_for(user).get(path.format(code=lead_a.code))

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_without_signing_in_nothing_is_shown(lead_a: Lead) -> None:
    response = APIClient().get("/api/v1/leads")

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_a_token_signs_an_integration_in(coordinator_a: User, lead_a: Lead) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(coordinator_a)}")

    assert _codes(client.get("/api/v1/leads")) == {str(lead_a.code)}
    assert client.get(f"/api/v1/leads/{lead_a.code}").status_code == 200


def test_a_wrong_token_is_refused(lead_a: Lead) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = client.get("/api/v1/leads")

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "authentication_failed"

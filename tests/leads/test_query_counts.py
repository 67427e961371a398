"""With 10,000 leads, the queue and a lead's pages run a fixed number of queries; a
lead's health answers and a health export do too, however many they read."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.factories import LocationFactory
from tests.support.staff_api import client_for, leads_bulk_create, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db

# Session, user, staff member; then the page of leads and their treatments.
LIST_QUERIES = 5
# Session, user, staff member, the lead, its treatments, submissions and open tasks.
DETAIL_QUERIES = 7
# Session, user, staff member, the lead, a page of events with actors.
TIMELINE_QUERIES = 5
EXPORT = "/api/v1/leads/export.csv"


@pytest.fixture
def coordinator(location: Location) -> User:
    other = LocationFactory.create(slug="kadikoy")
    user = staff(locations=[location], lead_coordinator=True)
    colleagues = [staff(locations=[location]) for _ in range(3)]
    leads_bulk_create(10_000, locations=[location, other], owners=[user, *colleagues])
    return user


@pytest.fixture
def client(coordinator: User) -> APIClient:
    return client_for(coordinator)


# Filters and orders a coordinator combines; each served by an index.
QUEUES = [
    {},
    {"ordering": "-score", "status": "new,contacted", "owner": "me"},
    {"ordering": "-created", "treatment": "mesotherapy", "outcome": "review"},
    {"ordering": "created", "q": "Patient 01", "created_after": "2020-01-01"},
    {"overdue": "true"},
    {"priority": "high"},
    {"owner": "none"},
]


def test_the_queue_takes_the_same_queries_for_10_or_200_leads_a_page(
    client: APIClient, coordinator: User, django_assert_num_queries: Any
) -> None:
    for params in QUEUES:
        for page_size in (10, 200):
            with django_assert_num_queries(LIST_QUERIES):
                response = client.get(
                    "/api/v1/leads", {**params, "page_size": page_size}
                )
            assert response.status_code == 200
            assert len(response.json()["results"]) == page_size, params

            with django_assert_num_queries(LIST_QUERIES):
                following = client.get(response.json()["next"])
            assert following.status_code == 200

    # Checking the location's slug is one query more.
    with django_assert_num_queries(LIST_QUERIES + 1):
        response = client.get("/api/v1/leads", {"location": "nisantasi"})
    assert response.status_code == 200

    admin = client_for(staff(StaffMember.Role.CLINIC_ADMIN))
    for page_size in (10, 200):
        with django_assert_num_queries(LIST_QUERIES):
            response = admin.get("/api/v1/leads", {"page_size": page_size})
        assert len(response.json()["results"]) == page_size


def test_a_lead_page_and_its_timeline_take_a_fixed_number_of_queries(
    client: APIClient, coordinator: User, django_assert_num_queries: Any
) -> None:
    lead = (
        Lead.objects.filter(
            location__staff_members__user=coordinator, tasks__isnull=False
        )
        .order_by("id")
        .first()
    )
    assert lead is not None

    with django_assert_num_queries(DETAIL_QUERIES):
        detail = client.get(f"/api/v1/leads/{lead.code}")
    assert detail.status_code == 200
    assert detail.json()["open_tasks"]

    for page_size in (1, 50):
        with django_assert_num_queries(TIMELINE_QUERIES):
            timeline = client.get(
                f"/api/v1/leads/{lead.code}/timeline", {"page_size": page_size}
            )
        assert timeline.status_code == 200
        assert len(timeline.json()["results"]) == min(page_size, 3)


# Session, user, staff member, the lead; then through intake's health door the
# submissions, their current screening results, the decisions on those (with who
# decided), and the audit rows in one INSERT.
HEALTH_QUERIES = 8
# Session, user, staff member, the export permission (user and group), the leads;
# then a chunk's audit (the submissions in scope, one INSERT) and its treatments.
EXPORT_QUERIES = 9


def test_a_leads_health_answers_take_the_same_queries_for_one_or_three_submissions(
    published: QuestionnaireVersion,
    location: Location,
    django_assert_num_queries: Any,
) -> None:
    client = client_for(staff(StaffMember.Role.PHYSICIAN, locations=[location]))
    lead = lead_of(submit(published, blood_thinners=["apixaban"]))

    with django_assert_num_queries(HEALTH_QUERIES):
        one = client.get(f"/api/v1/leads/{lead.code}/health")
    for _ in range(2):
        submit(published, blood_thinners=["apixaban"])
    decided = client.post(
        f"/api/v1/leads/{lead.code}/decisions",
        {"treatment": "mesotherapy", "decision": "cleared", "note": "INR stable"},
        format="json",
    )
    assert decided.status_code == 200, decided.content
    with django_assert_num_queries(HEALTH_QUERIES):
        three = client.get(f"/api/v1/leads/{lead.code}/health")

    assert len(one.json()["submissions"]) == 1
    submissions = three.json()["submissions"]
    assert len(submissions) == 3
    assert submissions[-1]["screening"]["overrides"][0]["note"] == "INR stable"


def test_a_health_export_takes_the_same_queries_for_one_lead_or_a_chunk_of_them(
    published: QuestionnaireVersion,
    location: Location,
    django_assert_num_queries: Any,
) -> None:
    client = client_for(
        staff(StaffMember.Role.PHYSICIAN, locations=[location], may_export=True)
    )

    def export() -> list[bytes]:
        response: Any = client.get(EXPORT, {"include_health": "true"})
        assert response.status_code == 200
        return list(response.streaming_content)

    submit(published)
    with django_assert_num_queries(EXPORT_QUERIES):
        assert len(b"".join(export()).splitlines()) == 2
    for n in range(4):
        submit(
            published,
            full_name=f"Zeynep Arslan{'a' * n}",
            email=f"zeynep{n}@example.com",
            phone=f"0533 765 43 2{n}",
        )
    with django_assert_num_queries(EXPORT_QUERIES):
        assert len(b"".join(export()).splitlines()) == 6

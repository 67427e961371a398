"""With 10,000 leads, the queue and a lead's pages run a fixed number of queries."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from leads.models import Lead
from tests.factories import LocationFactory
from tests.leads.staff_api import client_for, leads_bulk_create, staff

pytestmark = pytest.mark.django_db

# Session, user, staff member; then the page of leads and their treatments.
LIST_QUERIES = 5
# Session, user, staff member, the lead, its treatments, submissions and open tasks.
DETAIL_QUERIES = 7
# Session, user, staff member, the lead, a page of events with actors.
TIMELINE_QUERIES = 5


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

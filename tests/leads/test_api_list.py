"""The queue: filters, search, order, pages; a bad parameter is a 400, not ignored."""

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.utils.encoders import JSONEncoder

from clinics.models import Location, StaffMember
from leads.api.queue import LeadListItemOutputSerializer
from leads.models import Lead, LeadTreatment
from leads.selectors import LeadFilters, lead_queue_for_user
from tests.support.factories import LeadFactory, LocationFactory
from tests.support.staff_api import client_for, staff

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def clinic_b(db: None) -> Location:
    return LocationFactory.create(slug="kadikoy", name="Kadıköy Clinic")


@pytest.fixture
def admin() -> User:
    return staff(StaffMember.Role.CLINIC_ADMIN, first_name="Ayla", last_name="Admin")


@pytest.fixture
def coordinator(location: Location) -> User:
    return staff(locations=[location], first_name="Deniz", last_name="Coordinator")


@pytest.fixture
def client(admin: User) -> APIClient:
    return client_for(admin)


def _lead(location: Location, **fields: Any) -> Lead:
    treatments = fields.pop("treatments", {})
    lead = LeadFactory.create(location=location, **fields)
    for treatment, outcome in treatments.items():
        LeadTreatment.objects.create(lead=lead, treatment=treatment, outcome=outcome)
    return lead


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["full_name"] for item in response.json()["results"]]


@pytest.fixture
def queue(location: Location, clinic_b: Location, coordinator: User) -> None:
    """Four leads that each filter tells apart."""
    _lead(
        location,
        full_name="Ayşe Yılmaz",
        email="ayse.yilmaz+clinic@gmail.com",
        email_key="ayseyilmaz@gmail.com",
        phone="+905321234567",
        status=Lead.Status.NEW,
        priority=Lead.Priority.HIGH,
        score=80,
        owner=coordinator,
        first_contact_due_at=NOW - dt.timedelta(minutes=30),
        created_at=NOW - dt.timedelta(days=1),
        treatments={"mesotherapy": "review", "laser_ipl": "eligible"},
    )
    _lead(
        location,
        full_name="Burak Demir",
        status=Lead.Status.CONTACTED,
        priority=Lead.Priority.NORMAL,
        score=40,
        first_contact_due_at=NOW - dt.timedelta(hours=3),
        first_contacted_at=NOW - dt.timedelta(hours=4),
        created_at=NOW - dt.timedelta(days=10),
        treatments={"mesotherapy": "eligible"},
    )
    _lead(
        clinic_b,
        full_name="Cemile Kaya",
        status=Lead.Status.QUALIFIED,
        priority=Lead.Priority.LOW,
        score=10,
        first_contact_due_at=NOW + dt.timedelta(hours=5),
        created_at=NOW - dt.timedelta(days=40),
        treatments={"prp": "contraindicated"},
    )
    _lead(
        clinic_b,
        full_name="Deniz Aydın",
        status=Lead.Status.NEW,
        priority=Lead.Priority.NORMAL,
        score=60,
        first_contact_due_at=NOW + dt.timedelta(hours=1),
        created_at=NOW - dt.timedelta(hours=2),
    )


@pytest.mark.usefixtures("queue")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Burak Demir", "Ayşe Yılmaz", "Deniz Aydın", "Cemile Kaya"]),
        ({"status": "new"}, ["Ayşe Yılmaz", "Deniz Aydın"]),
        ({"status": "new,qualified"}, ["Ayşe Yılmaz", "Deniz Aydın", "Cemile Kaya"]),
        ({"status": ["contacted", "qualified"]}, ["Burak Demir", "Cemile Kaya"]),
        ({"priority": "high"}, ["Ayşe Yılmaz"]),
        ({"owner": "none"}, ["Burak Demir", "Deniz Aydın", "Cemile Kaya"]),
        ({"overdue": "true"}, ["Ayşe Yılmaz"]),
        ({"location": "kadikoy"}, ["Deniz Aydın", "Cemile Kaya"]),
        ({"treatment": "mesotherapy"}, ["Burak Demir", "Ayşe Yılmaz"]),
        ({"outcome": "eligible"}, ["Burak Demir", "Ayşe Yılmaz"]),
        ({"treatment": "mesotherapy", "outcome": "review"}, ["Ayşe Yılmaz"]),
        ({"outcome": "contraindicated"}, ["Cemile Kaya"]),
        ({"created_after": "-5"}, ["Ayşe Yılmaz", "Deniz Aydın"]),
        ({"created_before": "-5"}, ["Burak Demir", "Cemile Kaya"]),
        ({"q": "yılmaz"}, ["Ayşe Yılmaz"]),
        ({"q": "AYDIN"}, ["Deniz Aydın"]),
        ({"q": "AyseYilmaz+other@googlemail.com"}, ["Ayşe Yılmaz"]),
        ({"q": "0532 123 45 67"}, ["Ayşe Yılmaz"]),
        ({"q": "+90 (532) 123-4567"}, ["Ayşe Yılmaz"]),
        (
            {"ordering": "-created"},
            ["Deniz Aydın", "Ayşe Yılmaz", "Burak Demir", "Cemile Kaya"],
        ),
        (
            {"ordering": "created"},
            ["Cemile Kaya", "Burak Demir", "Ayşe Yılmaz", "Deniz Aydın"],
        ),
        (
            {"ordering": "-score"},
            ["Ayşe Yılmaz", "Deniz Aydın", "Burak Demir", "Cemile Kaya"],
        ),
        (
            {"status": "new", "ordering": "-score", "location": "nisantasi"},
            ["Ayşe Yılmaz"],
        ),
    ],
)
def test_each_filter_and_order_gives_the_leads_it_promises(
    client: APIClient, params: dict[str, Any], expected: list[str]
) -> None:
    for name in ("created_after", "created_before"):
        if name in params:  # days from today, as a date
            days = int(params[name])
            params[name] = (timezone.localdate() + dt.timedelta(days=days)).isoformat()

    assert _names(client.get("/api/v1/leads", params)) == expected


@pytest.mark.usefixtures("queue")
def test_owner_me_is_the_signed_in_coordinators_own_queue(
    coordinator: User,
) -> None:
    client = client_for(coordinator)

    assert _names(client.get("/api/v1/leads", {"owner": "me"})) == ["Ayşe Yılmaz"]
    assert _names(client.get("/api/v1/leads", {"owner": coordinator.pk})) == [
        "Ayşe Yılmaz"
    ]


def test_a_date_as_created_before_includes_that_whole_day(
    client: APIClient, location: Location
) -> None:
    today = timezone.localdate().isoformat()
    late = timezone.make_aware(
        dt.datetime.combine(timezone.localdate(), dt.time(23, 30))
    )
    _lead(location, full_name="Late Today", created_at=late)

    assert _names(client.get("/api/v1/leads", {"created_before": today})) == [
        "Late Today"
    ]
    assert _names(client.get("/api/v1/leads", {"created_after": today})) == [
        "Late Today"
    ]
    moment = late.isoformat()
    assert _names(client.get("/api/v1/leads", {"created_before": moment})) == []


@pytest.mark.usefixtures("queue")
def test_a_list_item_shows_what_the_queue_needs(
    client: APIClient, coordinator: User
) -> None:
    item = client.get("/api/v1/leads", {"q": "Ayşe"}).json()["results"][0]

    assert item["status"] == "new"
    assert item["priority"] == "high"
    assert item["location"] == "nisantasi"
    assert item["owner"] == {"id": coordinator.pk, "name": "Deniz Coordinator"}
    assert item["overdue"] is True
    assert item["first_contacted_at"] is None
    assert item["treatments"] == [
        {"treatment": "laser_ipl", "outcome": "eligible", "bookable_from": None},
        {"treatment": "mesotherapy", "outcome": "review", "bookable_from": None},
    ]
    assert item["booking"] == "now"  # laser/IPL may be booked today
    assert item["match_uncertain"] is False


def test_a_list_item_is_what_its_schema_serializer_would_show(
    client: APIClient,
    admin: User,
    location: Location,
    clinic_b: Location,
    coordinator: User,
) -> None:
    # The list is built from plain values, not through the serializer that
    # documents it: the two must agree on every field, owner or none, contacted
    # or not, treatments with and without a bookable day.
    unnamed = staff(locations=[location], first_name="", last_name="")
    _lead(location, owner=coordinator, treatments={"laser_ipl": "eligible"})
    _lead(location, owner=unnamed, first_contacted_at=NOW, score=7)
    deferred = _lead(clinic_b, owner=None, treatments={"prp": "review"})
    LeadTreatment.objects.create(
        lead=deferred,
        treatment="skincare",
        outcome="deferred",
        bookable_from=timezone.localdate() + dt.timedelta(days=3),
    )
    deferred.match_uncertain_with = Lead.objects.exclude(pk=deferred.pk).first()
    deferred.save()

    shown = client.get("/api/v1/leads", {"ordering": "created"}).json()["results"]

    leads = lead_queue_for_user(
        user=admin, filters=LeadFilters(), now=timezone.now()
    ).order_by("created_at", "id")
    expected = LeadListItemOutputSerializer(leads, many=True).data
    assert shown == json.loads(json.dumps(expected, cls=JSONEncoder))
    assert {item["owner"]["name"] for item in shown if item["owner"]} == {
        "Deniz Coordinator",
        unnamed.username,
    }


@pytest.mark.parametrize(
    ("outcomes", "readiness"),
    [
        (["contraindicated", "review"], "after_review"),
        (["deferred", "contraindicated"], "later"),
        (["contraindicated"], "not_at_all"),
        ([], "not_at_all"),
    ],
)
def test_a_lead_says_when_its_screening_lets_it_book(
    client: APIClient, location: Location, outcomes: list[str], readiness: str
) -> None:
    lead = LeadFactory.create(location=location, full_name="Readiness Person")
    LeadTreatment.objects.bulk_create(
        LeadTreatment(lead=lead, treatment=f"t{n}", outcome=outcome)
        for n, outcome in enumerate(outcomes)
    )

    response = client.get(f"/api/v1/leads/{lead.code}")

    assert response.json()["booking"] == readiness


@pytest.mark.parametrize(("days", "readiness"), [(1, "later"), (0, "now"), (-3, "now")])
def test_a_deferral_with_an_end_date_is_bookable_from_that_day(
    client: APIClient, location: Location, days: int, readiness: str
) -> None:
    lead = LeadFactory.create(location=location, full_name="Deferred Person")
    day = timezone.localdate() + dt.timedelta(days=days)
    LeadTreatment.objects.create(
        lead=lead, treatment="laser_ipl", outcome="deferred", bookable_from=day
    )

    body = client.get(f"/api/v1/leads/{lead.code}").json()

    assert body["booking"] == readiness
    assert body["treatments"][0]["bookable_from"] == day.isoformat()


def test_pages_follow_next_links_through_every_lead_once_even_with_equal_deadlines(
    client: APIClient, location: Location
) -> None:
    due = NOW + dt.timedelta(hours=1)
    made = [_lead(location, first_contact_due_at=due, score=50) for _ in range(7)]
    made += [_lead(location, first_contact_due_at=due + dt.timedelta(minutes=1))]

    for ordering in ("due", "-created", "created", "-score"):
        seen: list[str] = []
        url: str | None = f"/api/v1/leads?page_size=3&ordering={ordering}"
        while url:
            body = client.get(url).json()
            assert len(body["results"]) <= 3
            seen += [item["code"] for item in body["results"]]
            url = body["next"]
        assert sorted(seen) == sorted(str(lead.code) for lead in made), ordering
        assert len(seen) == len(set(seen))


def test_a_merged_lead_leaves_the_queue_but_its_page_says_where_it_went(
    client: APIClient, location: Location
) -> None:
    kept = _lead(location, full_name="Kept Lead")
    gone = _lead(location, full_name="Gone Lead", merged_into=kept)

    assert _names(client.get("/api/v1/leads")) == ["Kept Lead"]
    detail = client.get(f"/api/v1/leads/{gone.code}").json()
    assert detail["merged_into"] == str(kept.code)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "nonsense"}, "status"),
        ({"status": "new,nonsense"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"owner": "someone"}, "owner"),
        ({"overdue": "false"}, "overdue"),
        ({"overdue": "maybe"}, "overdue"),
        ({"location": "atlantis"}, "location"),
        ({"treatment": "Botox!"}, "treatment"),
        ({"outcome": "fine"}, "outcome"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_after": "2026-02-30"}, "created_after"),
        (
            {"created_after": "2026-11-02", "created_before": "2026-11-01"},
            "created_before",
        ),
        ({"q": "ay"}, "q"),
        ({"q": "+1 234 5"}, "q"),
        ({"ordering": "name"}, "ordering"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "201"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"sort": "due"}, "sort"),
        ({"created_after": ""}, "created_after"),
        ({"status": ""}, "status"),
        ({"q": ["ayse", "burak"]}, "q"),
    ],
)
def test_a_bad_parameter_answers_400_naming_it(
    client: APIClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/api/v1/leads", params)

    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_a_cursor_of_another_order_is_refused(
    client: APIClient, location: Location
) -> None:
    for _ in range(3):
        _lead(location)
    next_url = client.get("/api/v1/leads?page_size=1&ordering=due").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]

    response = client.get(f"/api/v1/leads?ordering=-score&cursor={cursor}")

    assert response.status_code == 400
    assert response.json()["code"] == "cursor_invalid"

"""Requests run a fixed number of SQL queries, whatever the answers hold."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion
from leads.models import AssignmentRule, Lead
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import StaffMemberFactory
from tests.support.form_steps import start

# The budget for one API submission (the benchmarks issue): at most 12.
SUBMISSION_QUERY_BUDGET = 12


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "bookable", "offer_queries"),
    [
        ({}, False, 0),
        (
            {
                "blood_thinners": ["warfarin", "aspirin"],
                "allergies": ["other"],
                "allergy_details": "latex",
            },
            False,
            0,
        ),
        ({}, True, 2),
    ],
    ids=["low-risk", "several-risks", "bookable-now"],
)
def test_sending_a_questionnaire_by_api_takes_a_fixed_number_of_queries(
    api_client: APIClient,
    published: QuestionnaireVersion,
    location: Location,
    overrides: dict[str, Any],
    bookable: bool,
    offer_queries: int,
) -> None:
    if bookable:
        appointment_make(practitioner_make(location, weekdays=(0, 1, 2, 3, 4, 5)))
    # A first submission, from someone else, fills the configuration cache
    # (core.config_cache) as a running server's first requests do.
    first = complete_answers(email="first@example.com", phone="0532 000 00 01")
    api_client.post("/api/v1/submissions", {"answers": first}, format="json")

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(
            "/api/v1/submissions",
            {"answers": complete_answers(**overrides)},
            format="json",
        )

    assert response.status_code == 201
    assert (response.json()["booking"] is not None) is bookable
    # The configuration's token (1). Intake: the submission and its screening
    # result (2). The hand-off to a new, unassigned lead: the person's lock, their
    # open leads, the lead, its events and its treatments in one INSERT each (5).
    # The follow-ups the submission starts: the enrollments for the timed steps
    # and the messages due at once, in one INSERT each (2). Where a treatment may
    # be booked now, the booking offer reads the practitioners' bookings and
    # time away (booking's own tests pin the rest). The questionnaire, the
    # locations, the rule set, the sequences, the assignment rules, the webhook
    # endpoints and the appointment types come from the cache; the lead just
    # made is not read again.
    statements = _statements(captured)
    assert len(statements) == 10 + offer_queries, "\n".join(s[:200] for s in statements)
    assert len(statements) <= SUBMISSION_QUERY_BUDGET


@pytest.mark.django_db
def test_a_submission_a_round_robin_rule_assigns_takes_three_more(
    api_client: APIClient, published: QuestionnaireVersion, location: Location
) -> None:
    coordinator = StaffMemberFactory.create(role=StaffMember.Role.COORDINATOR)
    coordinator.locations.add(location)
    AssignmentRule.objects.create(name="Everyone at Nişantaşı", location=location)
    first = complete_answers(email="first@example.com", phone="0532 000 00 01")
    api_client.post("/api/v1/submissions", {"answers": first}, format="json")

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(
            "/api/v1/submissions", {"answers": complete_answers()}, format="json"
        )

    assert response.status_code == 201
    assert Lead.objects.get(email="ayse.yilmaz@example.com").owner == coordinator.user
    # The ten of an unassigned lead (the lead is inserted with its owner, the
    # "assigned" entry with its other events), and: the rule's coordinators on duty
    # there, the rule's turn taken in one UPDATE, the owner's notification.
    statements = _statements(captured)
    assert len(statements) == 13, "\n".join(s[:200] for s in statements)


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements a request ran, without the savepoints that stand in for its
    transaction's BEGIN and COMMIT inside the test's own transaction."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.django_db
def test_reading_the_questionnaire_takes_one_query_once_cached(
    api_client: APIClient,
    published: QuestionnaireVersion,
    location: Location,
    django_assert_num_queries: Any,
) -> None:
    # The configuration's token, the published version, the locations.
    with django_assert_num_queries(3):
        api_client.get("/api/v1/questionnaires/redness-intake")
    # Then only the token, until the configuration changes.
    with django_assert_num_queries(1):
        assert (
            api_client.get("/api/v1/questionnaires/redness-intake").status_code == 200
        )
    location.name = "Nişantaşı, second floor"
    location.save()
    with django_assert_num_queries(3):
        body = api_client.get("/api/v1/questionnaires/redness-intake").json()
    assert "Nişantaşı, second floor" in str(body)


@pytest.mark.django_db
def test_a_form_step_page_takes_a_fixed_number_of_queries(
    client: Client, published: QuestionnaireVersion, django_assert_num_queries: Any
) -> None:
    start(client)
    client.get("/en/consultation/step/1/")

    # The session, the draft, the locations, its photos, the clinic's branding.
    with django_assert_num_queries(5):
        assert client.get("/en/consultation/step/1/").status_code == 200


@pytest.mark.django_db
def test_reading_a_screening_takes_a_fixed_number_of_queries(
    api_client: APIClient,
    published: QuestionnaireVersion,
    clinic_staff: User,
    django_assert_num_queries: Any,
) -> None:
    code = api_client.post(
        "/api/v1/submissions", {"answers": complete_answers()}, format="json"
    ).json()["id"]
    api_client.force_authenticate(clinic_staff)

    # The login's permissions (2), the submission, its current result, the
    # decisions on it (with who decided), the audit row: through the health door.
    with django_assert_num_queries(6):
        assert (
            api_client.get(f"/api/v1/submissions/{code}/screening").status_code == 200
        )

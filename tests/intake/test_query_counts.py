"""Requests run a fixed number of SQL queries, whatever the answers hold."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from intake.models import QuestionnaireVersion
from tests.support.answers import complete_answers
from tests.support.form_steps import start


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "offer_queries"),
    [
        ({}, 2),
        (
            {
                "blood_thinners": ["warfarin", "aspirin"],
                "allergies": ["other"],
                "allergy_details": "latex",
            },
            0,
        ),
    ],
    ids=["low-risk", "several-risks"],
)
def test_sending_a_questionnaire_by_api_takes_a_fixed_number_of_queries(
    api_client: APIClient,
    published: QuestionnaireVersion,
    django_assert_num_queries: Any,
    overrides: dict[str, Any],
    offer_queries: int,
) -> None:
    api_client.get("/api/v1/questionnaires/redness-intake")  # warms the caches

    with CaptureQueriesContext(connection) as captured:
        response = api_client.post(
            "/api/v1/submissions",
            {"answers": complete_answers(**overrides)},
            format="json",
        )

    assert response.status_code == 201
    # Intake: the published questionnaire, the locations, the submission, the rule
    # set, the result (5). The hand-off to a new, unassigned lead: the person's lock,
    # their open leads, the lead, its events and its treatments in one INSERT each,
    # the assignment rules, the webhook endpoints (7). The follow-ups the
    # submission starts: the active sequences' steps, the enrollments for the timed
    # ones and the messages due at once, in one INSERT each (3).
    # Where a treatment may be booked now, the booking offer: the lead, and the
    # clinic's appointment types, none here (2; booking's own tests pin the rest).
    # Nothing else is read again.
    assert len(_statements(captured)) == 15 + offer_queries, _statements(captured)


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements a request ran, without the savepoints that stand in for its
    transaction's BEGIN and COMMIT inside the test's own transaction."""
    return [
        query["sql"]
        for query in captured.captured_queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.django_db
def test_reading_the_questionnaire_takes_two_queries(
    api_client: APIClient,
    published: QuestionnaireVersion,
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(2):
        assert (
            api_client.get("/api/v1/questionnaires/redness-intake").status_code == 200
        )


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

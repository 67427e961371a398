"""Requests run a fixed number of SQL queries, whatever the answers hold."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from intake.models import QuestionnaireVersion
from tests.intake.conftest import complete_answers
from tests.intake.form_steps import start


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {
            "blood_thinners": ["warfarin", "aspirin"],
            "allergies": ["other"],
            "allergy_details": "latex",
        },
    ],
    ids=["low-risk", "several-risks"],
)
def test_sending_a_questionnaire_by_api_takes_a_fixed_number_of_queries(
    api_client: APIClient,
    published: QuestionnaireVersion,
    django_assert_num_queries: Any,
    overrides: dict[str, Any],
) -> None:
    api_client.get("/api/v1/questionnaires/redness-intake")  # warms the caches

    # 11 store the submission and its screening; 12 hand it to a new, unassigned lead.
    with django_assert_num_queries(23):
        response = api_client.post(
            "/api/v1/submissions",
            {"answers": complete_answers(**overrides)},
            format="json",
        )

    assert response.status_code == 201


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

    with django_assert_num_queries(4):
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

    with django_assert_num_queries(9):
        assert (
            api_client.get(f"/api/v1/submissions/{code}/screening").status_code == 200
        )

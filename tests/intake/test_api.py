"""The intake API: questionnaire, submissions, FHIR export, screening."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from intake.models import (
    HealthDataAccess,
    QuestionnaireVersion,
    ScreeningOverride,
    Submission,
)
from tests.support.answers import complete_answers

SUBMISSIONS = "/api/v1/submissions"


def submit(api_client: APIClient, answers: dict[str, Any], **headers: str) -> Any:
    return api_client.post(
        SUBMISSIONS,
        {"language": "en", "answers": answers, "source": {"utm_source": "clinic-site"}},
        format="json",
        headers=headers,
    )


@pytest.mark.django_db
def test_a_clinic_website_can_read_the_published_questionnaire(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.get("/api/v1/questionnaires/redness-intake")

    assert response.status_code == 200
    body = response.json()
    assert body["version"] == published.number
    assert body["definition"]["item"][0]["linkId"] == "concern"
    assert body["locations"] == [{"code": "nisantasi", "name": "Nişantaşı Clinic"}]


@pytest.mark.django_db
def test_an_unknown_questionnaire_answers_404_in_the_error_shape(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.get("/api/v1/questionnaires/nope")

    assert response.status_code == 404
    assert response.json()["code"] == "questionnaire_unavailable"


@pytest.mark.django_db
def test_a_valid_submission_answers_201_with_its_id_and_next_steps(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = submit(api_client, complete_answers())

    assert response.status_code == 201, response.json()
    body = response.json()
    submission = Submission.objects.get()
    assert body["id"] == str(submission.code)
    assert {step["kind"] for step in body["next_steps"]} == {"book"}
    assert {
        (step["treatment"], step["treatment_name"]) for step in body["next_steps"]
    } == {
        ("mesotherapy", "Vitamin K mesotherapy (small injections into the skin)"),
        ("laser_ipl", "Laser or IPL (light treatment)"),
    }
    assert body["follow_up"] == {
        "contact_by": "coordinator",
        "contact_channel": "whatsapp",
        "contact_channel_name": "WhatsApp",
        "booking_link": False,
        "message": "A coordinator will contact you by WhatsApp with the times that "
        "are free.",
    }
    assert submission.source == {"utm_source": "clinic-site"}


@pytest.mark.django_db
def test_a_turkish_submission_hears_what_happens_next_in_turkish(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.post(
        SUBMISSIONS,
        {"language": "tr", "answers": complete_answers(contact_channel="phone")},
        format="json",
    )

    body = response.json()
    assert body["follow_up"]["contact_channel"] == "phone"
    assert body["follow_up"]["message"] == (
        "Bir koordinatörümüz, seçtiğiniz yolla (Telefonla arama) sizinle iletişime "
        "geçip boş saatleri iletecek."
    )
    assert "mesotherapy" in {step["treatment"] for step in body["next_steps"]}
    assert all(step["treatment_name"] for step in body["next_steps"])


@pytest.mark.django_db
def test_without_health_consent_the_api_refuses_and_stores_nothing(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = submit(api_client, complete_answers(consent_health=False))

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "consent" in body["fields"]["answers.consent_health"][0]
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_bad_answers_get_a_message_per_field(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = submit(
        api_client,
        complete_answers(
            email="not-an-email",
            phone="12",
            severity="terrible",
            alcohol_units_per_week=-3,
            smoking=None,
        ),
    )

    assert response.status_code == 400
    fields = response.json()["fields"]
    assert set(fields) == {
        "answers.email",
        "answers.phone",
        "answers.severity",
        "answers.alcohol_units_per_week",
        "answers.smoking",
    }
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_a_retry_with_the_same_idempotency_key_returns_the_first_submission(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    first = submit(api_client, complete_answers(), **{"Idempotency-Key": "abc-123"})
    again = submit(api_client, complete_answers(), **{"Idempotency-Key": "abc-123"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_a_filled_honeypot_is_refused_with_a_clear_error(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.post(
        SUBMISSIONS,
        {"answers": complete_answers(), "website": "http://spam.example"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"website": ["This field must stay empty."]}
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_past_the_rate_limit_the_api_answers_429(
    api_client: APIClient, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_RATE_LIMIT = "2/hour"
    codes = [submit(api_client, complete_answers()).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert Submission.objects.count() == 2


@pytest.mark.django_db
def test_the_fhir_export_is_a_valid_questionnaire_response_and_is_audited(
    api_client: APIClient, published: QuestionnaireVersion, clinic_staff: User
) -> None:
    code = submit(
        api_client,
        complete_answers(
            weight_loss=True,
            weight_loss_kg=12.5,
            weight_loss_months=6,
            glp1_medication="semaglutide",
            bariatric_surgery=False,
        ),
    ).json()["id"]
    api_client.force_authenticate(clinic_staff)

    response = api_client.get(f"{SUBMISSIONS}/{code}/fhir")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    resource = QuestionnaireResponse.model_validate(response.json())
    assert resource.id == code
    assert str(resource.questionnaire).endswith(f"redness-intake|{published.number}")
    access = HealthDataAccess.objects.get()
    assert (access.user, access.what) == (clinic_staff, "fhir_export")


@pytest.mark.django_db
def test_answers_can_be_screened_without_storing_them(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.post(
        "/api/v1/screening/evaluate",
        {
            "answers": complete_answers(implanted_device=True),
            "birth_date": "1988-05-14",
        },
        format="json",
    )

    assert response.status_code == 200
    treatments = response.json()["treatments"]
    assert treatments["radiofrequency"]["outcome"] == "contraindicated"
    assert treatments["mesotherapy"]["outcome"] == "eligible"
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_the_published_rule_set_can_be_read_with_its_sources(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    response = api_client.get("/api/v1/screening/rule-set")

    assert response.status_code == 200
    rules = response.json()["definition"]["rules"]
    assert rules
    assert all(rule["source"] for rule in rules)


@pytest.mark.django_db
def test_staff_read_a_submissions_screening_with_the_reasons(
    api_client: APIClient, published: QuestionnaireVersion, clinic_staff: User
) -> None:
    code = submit(api_client, complete_answers(blood_thinners=["warfarin"])).json()[
        "id"
    ]
    api_client.force_authenticate(clinic_staff)

    response = api_client.get(f"{SUBMISSIONS}/{code}/screening")

    assert response.status_code == 200
    body = response.json()
    # Refused by the rule; a physician decides with the prescriber, so it waits.
    assert body["result"]["treatments"]["mesotherapy"]["outcome"] == "contraindicated"
    assert body["effective_outcomes"]["mesotherapy"] == "review"
    reasons = [
        rule["reason"] for rule in body["result"]["treatments"]["mesotherapy"]["fired"]
    ]
    assert any("warfarin" in reason.lower() for reason in reasons)
    meso = next(t for t in body["explanations"] if t["treatment"] == "mesotherapy")
    answers = [answer for rule in meso["rules"] for answer in rule["answers"]]
    assert "Do you take any blood thinners?: Warfarin (Coumadin)" in answers
    assert HealthDataAccess.objects.get().what == "screening"


@pytest.mark.django_db
@pytest.mark.parametrize("door", ["screening/overrides", "screening/reevaluate"])
def test_physicians_decide_on_the_lead_not_on_the_submission(
    api_client: APIClient,
    published: QuestionnaireVersion,
    clinic_staff: User,
    door: str,
) -> None:
    """The submission's own decision doors are gone: a decision made there left the
    lead behind (leads.api: decisions, screening/reevaluate are the doors)."""
    code = submit(api_client, complete_answers(blood_thinners=["apixaban"])).json()[
        "id"
    ]
    api_client.force_authenticate(clinic_staff)

    response = api_client.post(
        f"{SUBMISSIONS}/{code}/{door}",
        {"treatment": "mesotherapy", "decision": "cleared", "note": "INR stable"},
        format="json",
    )

    assert response.status_code == 404
    assert ScreeningOverride.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["user", "staff_user"])
def test_logins_without_the_right_to_read_submissions_get_403_and_nothing_is_read(
    api_client: APIClient,
    published: QuestionnaireVersion,
    request: pytest.FixtureRequest,
    reader: str,
) -> None:
    code = submit(api_client, complete_answers()).json()["id"]
    api_client.force_authenticate(request.getfixturevalue(reader))

    assert api_client.get(f"{SUBMISSIONS}/{code}/fhir").status_code == 403
    assert api_client.get(f"{SUBMISSIONS}/{code}/screening").status_code == 403
    assert HealthDataAccess.objects.count() == 0


@pytest.mark.django_db
def test_a_reused_idempotency_key_with_other_answers_is_refused_not_replayed(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    first = submit(api_client, complete_answers(), **{"Idempotency-Key": "k-1"})
    other = submit(
        api_client,
        complete_answers(email="someone.else@example.com"),
        **{"Idempotency-Key": "k-1"},
    )

    assert first.status_code == 201
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert "next_steps" not in other.json()
    assert Submission.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("kg", [10**400, 1e308], ids=["huge-int", "huge-float"])
def test_absurd_numbers_to_the_public_evaluator_get_an_answer_not_a_500(
    api_client: APIClient, published: QuestionnaireVersion, kg: float
) -> None:
    answers = complete_answers(
        weight_loss=True, weight_loss_kg=kg, weight_loss_months=1e-300
    )

    response = api_client.post(
        "/api/v1/screening/evaluate", {"answers": answers}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["triggers"]["weight_loss_kg_per_month"] is None

"""The patient form, through Django's test client (the browser test is separate)."""

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from intake.encryption import health_data_decrypt
from intake.models import IntakeDraft, QuestionnaireVersion, Submission
from tests.support.answers import complete_answers
from tests.support.form_steps import STEPS, fill_all, fill_until_last, start, step_data


@pytest.mark.django_db
def test_without_health_consent_nothing_is_stored_and_the_box_says_why(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = client.post("/en/consultation/", {})

    assert response.status_code == 400
    assert "only look at your health answers with your consent" in (
        response.content.decode()
    )
    assert IntakeDraft.objects.count() == 0
    assert Submission.objects.count() == 0


@pytest.mark.django_db
def test_a_whole_questionnaire_ends_on_the_next_steps_page(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = fill_all(client, complete_answers())

    page = client.get(response["Location"]).content.decode()
    assert "Choose your time" in page
    submission = Submission.objects.get()
    assert submission.phone == "+905321234567"
    assert submission.questionnaire_version == published
    assert IntakeDraft.objects.count() == 0
    health = health_data_decrypt(submission.health_answers_ciphertext)
    assert health["blood_thinners"] == ["none"]
    assert "email" not in health


@pytest.mark.django_db
def test_a_vitamin_k_allergy_makes_the_next_steps_page_say_mesotherapy_is_not_offered(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = fill_all(client, complete_answers(allergies=["vitamin_k"]))

    page = client.get(response["Location"]).content.decode()
    assert "Treatments we will not offer you online" in page
    assert "Choose your time" in page  # laser/IPL is unaffected


@pytest.mark.django_db
def test_warfarin_says_a_physician_decides_with_the_prescriber_and_offers_no_time(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = fill_all(client, complete_answers(blood_thinners=["warfarin"]))

    page = client.get(response["Location"]).content.decode()
    assert "A physician will review your answers" in page
    assert "the doctor who prescribes your medicine" in page
    assert "Treatments we will not offer you online" not in page
    assert "Choose your time" not in page


@pytest.mark.django_db
def test_a_follow_up_question_is_required_only_when_its_gate_is_answered_yes(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers(weight_loss=True)
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, answers))

    response = client.post("/en/consultation/step/2/", step_data(2, answers))

    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="weight_loss_kg-errors"' in page
    assert 'aria-invalid="true"' in page
    answers.update(weight_loss_kg=12, weight_loss_months=4, glp1_medication="none")
    answers["bariatric_surgery"] = False
    assert (
        client.post("/en/consultation/step/2/", step_data(2, answers)).status_code
        == 302
    )


@pytest.mark.django_db
def test_going_back_keeps_the_answers_of_the_step_left(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, answers))
    client.post("/en/consultation/step/2/", step_data(2, answers))
    partial = {**step_data(3, answers), "action": "back"}
    partial.pop("smoking")

    response = client.post("/en/consultation/step/3/", partial)

    assert response["Location"] == "/en/consultation/step/2/"
    page = client.get("/en/consultation/step/3/").content.decode()
    assert 'value="under_1" id="id_sun_hours_per_day_0" checked' in page or (
        "checked" in page
    )


@pytest.mark.django_db
def test_a_double_click_on_send_makes_one_submission(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    last = fill_until_last(client, answers)

    first = client.post(last, step_data(len(STEPS), answers))
    second = client.post(last, step_data(len(STEPS), answers))

    assert Submission.objects.count() == 1
    assert first["Location"] == second["Location"]


@pytest.mark.django_db
def test_a_filled_honeypot_is_refused_but_the_answers_stay(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    start(client)

    response = client.post(
        "/en/consultation/step/1/", {**step_data(1, answers), "website": "http://spam"}
    )

    assert response.status_code == 400
    assert "Please leave this field empty" in response.content.decode()
    assert 'value="redness"' in response.content.decode()
    assert IntakeDraft.objects.count() == 1


@pytest.mark.django_db
def test_a_questionnaire_sent_too_fast_is_refused_and_kept(
    client: Client, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_MIN_FILL_SECONDS = 3600
    answers = complete_answers()
    last = fill_until_last(client, answers)

    response = client.post(last, step_data(len(STEPS), answers))

    assert response.status_code == 400
    assert "Your answers are kept" in response.content.decode()
    assert Submission.objects.count() == 0
    assert IntakeDraft.objects.count() == 1


@pytest.mark.django_db
def test_past_the_rate_limit_a_person_is_told_to_come_back_and_keeps_the_answers(
    client: Client, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_RATE_LIMIT = "1/hour"
    fill_all(client, complete_answers())

    other = Client()
    answers = complete_answers(email="other@example.com")
    last = fill_until_last(other, answers)
    response = other.post(last, step_data(len(STEPS), answers))

    assert response.status_code == 429
    assert "Your answers are kept" in response.content.decode()
    assert Submission.objects.count() == 1
    assert IntakeDraft.objects.count() == 1


@pytest.mark.django_db
def test_the_form_speaks_turkish_under_tr(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = fill_all(client, complete_answers(), language="tr")

    assert response["Location"].startswith("/tr/consultation/done/")
    assert Submission.objects.get().language == "tr"


@pytest.mark.django_db
def test_the_done_page_is_only_for_the_person_who_sent_it(
    client: Client, published: QuestionnaireVersion
) -> None:
    response = fill_all(client, complete_answers())

    assert Client().get(response["Location"]).status_code == 404


@pytest.mark.django_db
def test_before_any_questionnaire_is_published_the_start_page_says_so_kindly(
    client: Client,
) -> None:
    response = client.get("/en/consultation/")

    assert response.status_code == 503
    assert "The questionnaire is not open yet" in response.content.decode()

"""The patient's path as a clinic's website needs it: phone numbers as people type
them, age first, an honest length, the clinic's own name and contact details."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from clinics.models import ClinicBranding, Location
from core.addresses import address_network
from intake.forms import ASKED_AT_START
from intake.models import IntakeDraft, QuestionnaireVersion
from intake.questionnaires.definition import definition_load_shipped, length_ahead
from intake.validators import AnswerInvalid, is_minor, phone_normalise
from tests.support.answers import complete_answers
from tests.support.factories import LocationFactory
from tests.support.form_steps import STEPS, fill_all, start, step_data

DEFINITION = definition_load_shipped()
# What reads as a phone number in a help text: a + or 0, then digits and spaces.
PHONE_IN_TEXT = re.compile(r"(?<![\w])[+0]\d[\d ]{6,}\d")


def test_every_phone_number_the_questionnaire_shows_as_an_example_is_accepted() -> None:
    phone = DEFINITION.item("phone")
    assert phone.help is not None
    examples = [
        number
        for language in ("en", "tr")
        for number in PHONE_IN_TEXT.findall(phone.help.get(language))
    ]

    assert len(examples) == 4  # a local and an international example, in each
    for example in examples:
        phone_normalise(example, region="TR")


def test_the_refusal_gives_examples_that_are_themselves_accepted() -> None:
    for region in ("TR", "GB", "DE"):
        with pytest.raises(AnswerInvalid) as refused:
            phone_normalise("12345", region=region)
        examples = PHONE_IN_TEXT.findall(str(refused.value))
        assert len(examples) == 2, refused.value
        for example in examples:
            phone_normalise(example, region=region)


def test_a_number_without_country_code_is_read_in_the_chosen_locations_country(
    client: Client, published: QuestionnaireVersion
) -> None:
    LocationFactory.create(slug="london", name="London", country="GB")
    answers = complete_answers(location="london", phone="07400 123456")

    fill_all(client, answers)

    submission = published.submissions.get()
    assert submission.phone == "+447400123456"
    # The same digits at the Istanbul location are not a Turkish number.
    with pytest.raises(AnswerInvalid):
        phone_normalise("07400 123456", region="TR")


def test_any_valid_international_number_is_accepted_whatever_the_location() -> None:
    assert phone_normalise("+49 1512 3456789", region="TR") == "+4915123456789"
    assert phone_normalise("0049 1512 3456789", region="GB") == "+4915123456789"


def _born_years_ago(years: int) -> str:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=1).isoformat()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "You are under 18"), ("tr", "18 yaşından küçüksünüz")],
)
def test_someone_under_18_learns_the_guardian_path_before_any_health_question(
    client: Client, published: QuestionnaireVersion, language: str, words: str
) -> None:
    assert STEPS[0].items[0].link_id == "birth_date"
    start(client, language)
    answers = complete_answers(birth_date=_born_years_ago(16))

    response = client.post(f"/{language}/consultation/step/1/", step_data(1, answers))

    assert response.status_code == 302
    assert response["Location"] == f"/{language}/consultation/under-18/"
    page = client.get(response["Location"]).content.decode()
    assert words in page
    assert f'href="/{language}/consultation/step/2/"' in page
    # They can still go on, with a parent or guardian.
    assert client.get(f"/{language}/consultation/step/2/").status_code == 200


@pytest.mark.django_db
def test_an_adult_goes_straight_on_and_the_birth_date_notice_waits_hidden(
    client: Client, published: QuestionnaireVersion
) -> None:
    start(client)
    page = client.get("/en/consultation/step/1/").content.decode()
    eighteen = timezone.localdate() - dt.timedelta(days=1)

    response = client.post(
        "/en/consultation/step/1/",
        step_data(1, complete_answers(birth_date=_born_years_ago(30))),
    )

    assert response["Location"] == "/en/consultation/step/2/"
    notice = re.search(r'data-minor-after="([\d-]+)"[^>]*hidden', page)
    assert notice is not None
    assert notice.group(1) <= eighteen.isoformat()


@pytest.mark.django_db
def test_the_time_promised_is_counted_from_the_questions_people_see(
    client: Client, published: QuestionnaireVersion
) -> None:
    shortest = length_ahead(DEFINITION, {}, skip=ASKED_AT_START)
    longest = length_ahead(DEFINITION, {}, every_question=True, skip=ASKED_AT_START)

    page = client.get("/en/consultation/").content.decode()
    home = client.get("/en/").content.decode()

    assert f"About {shortest.minutes} to {longest.minutes} minutes." in page
    assert f"{shortest.questions} questions for most people" in page
    assert "about 5 minutes" not in page
    assert "ten minutes" not in home
    assert shortest.questions < longest.questions
    # Every step says what is left, and it shrinks as people go on.
    start(client)
    first = client.get("/en/consultation/step/1/").content.decode()
    assert f"about {shortest.minutes} minutes left" in first


def test_no_step_asks_more_than_eleven_questions() -> None:
    """About three phone screens (the browser test measures them)."""
    for step in STEPS:
        asked = [item for item in step.items if item.is_question]
        assert len(asked) <= 11, (step.link_id, len(asked))


@pytest.mark.django_db
def test_patient_pages_show_the_clinics_own_name_contact_and_privacy_facts(
    client: Client, published: QuestionnaireVersion
) -> None:
    ClinicBranding.objects.create(
        name="Klinik Işık",
        phone="+90 212 555 01 23",
        email="merhaba@klinik.example",
        address="Teşvikiye Cd. 1, İstanbul",
        controller="Klinik Işık Sağlık Hizmetleri A.Ş.",
        privacy_contact="kvkk@klinik.example",
        retention_months=18,
        privacy_notice_en="We never sell your data.",
        privacy_notice_version="2026-12-01",
    )

    page = client.get("/en/consultation/").content.decode()

    assert "<title>Consultation questionnaire · Klinik Işık</title>" in page
    assert 'href="tel:+902125550123"' in page
    assert "Teşvikiye Cd. 1" in page
    assert "Klinik Işık Sağlık Hizmetleri A.Ş." in page
    assert "Article 9(2)(a)" in page
    assert "KVKK" in page
    assert "For 18 months after the clinic last heard from you" in page
    assert 'href="mailto:kvkk@klinik.example"' in page
    assert "We never sell your data." in page
    assert "Staff sign in" not in client.get("/en/").content.decode()
    assert "/admin/" not in client.get("/en/").content.decode()
    # The consent records the notice it was given under, the clinic's text included.
    fill_all(client, complete_answers())
    submission = published.submissions.get()
    assert submission.privacy_notice_version == "2026-11-01+clinic-2026-12-01"


@pytest.mark.django_db
def test_turkish_pages_name_the_location_in_turkish_with_a_tel_link(
    client: Client, published: QuestionnaireVersion, location: Location
) -> None:
    location.name_tr = "Nişantaşı Kliniği"
    location.phone = "+902120000000"
    location.save()
    answers = complete_answers()
    start(client, "tr")
    for number in range(1, len(STEPS)):
        client.post(f"/tr/consultation/step/{number}/", step_data(number, answers))
    last_step = client.get(f"/tr/consultation/step/{len(STEPS)}/").content.decode()

    done = client.post(
        f"/tr/consultation/step/{len(STEPS)}/",
        step_data(len(STEPS), answers),
        follow=True,
    ).content.decode()

    assert "Nişantaşı Kliniği" in last_step
    assert "Nişantaşı Clinic" not in last_step
    assert 'href="tel:+902120000000"' in done
    assert "+90 212 000 00 00" in done


@pytest.mark.django_db
def test_someone_under_18_can_leave_only_contact_details_for_a_coordinator(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers(birth_date=_born_years_ago(16))
    last = len(STEPS)
    start(client)
    client.post("/en/consultation/step/1/", step_data(1, answers))

    asked = client.post("/en/consultation/under-18/")

    assert asked["Location"] == f"/en/consultation/step/{last}/"
    # No health question is asked online.
    skipped = client.get("/en/consultation/step/4/")
    assert skipped["Location"] == f"/en/consultation/step/{last}/"
    page = client.get(f"/en/consultation/step/{last}/").content.decode()
    assert "only your contact details are needed now" in page
    sent = client.post(f"/en/consultation/step/{last}/", step_data(last, answers))
    assert sent.status_code == 302, sent.content.decode()[:2000]
    submission = published.submissions.get()
    assert submission.email == answers["email"]
    # Unanswered health questions never leave a treatment open to book.
    outcomes = submission.screening_results.get(is_current=True).outcomes
    assert set(outcomes.values()) <= {"review", "contraindicated"}, outcomes


@pytest.mark.django_db
def test_an_adult_cannot_skip_the_health_questions(
    client: Client, published: QuestionnaireVersion
) -> None:
    start(client)
    client.post(
        "/en/consultation/step/1/",
        step_data(1, complete_answers(birth_date=_born_years_ago(30))),
    )

    refused = client.post("/en/consultation/under-18/", follow=True)

    assert "This is for people under 18" in refused.content.decode()
    assert client.get("/en/consultation/step/4/").status_code == 302
    assert client.get("/en/consultation/step/2/").status_code == 200


@pytest.mark.django_db
def test_a_birth_date_corrected_to_an_adults_brings_the_health_questions_back(
    client: Client, published: QuestionnaireVersion
) -> None:
    start(client)
    client.post(
        "/en/consultation/step/1/",
        step_data(1, complete_answers(birth_date=_born_years_ago(16))),
    )
    client.post("/en/consultation/under-18/")

    corrected = client.post(
        "/en/consultation/step/1/",
        step_data(1, complete_answers(birth_date=_born_years_ago(30))),
    )

    assert corrected["Location"] == "/en/consultation/step/2/"
    assert client.get("/en/consultation/step/2/").status_code == 200
    assert not IntakeDraft.objects.get().contact_first
    # The steps ahead are asked again, one after the other.
    last = client.get(f"/en/consultation/step/{len(STEPS)}/")
    assert last["Location"] == "/en/consultation/step/2/"


def test_on_29_february_someone_born_on_1_march_18_years_ago_is_still_17() -> None:
    leap_day = dt.date(2028, 2, 29)

    assert is_minor("2010-03-01", today=leap_day)
    assert not is_minor("2010-02-28", today=leap_day)


def test_one_holder_of_an_ipv6_network_counts_as_one_address() -> None:
    assert address_network("2001:db8:1:2::a") == address_network("2001:db8:1:2:ffff::1")
    assert address_network("2001:db8:1:3::a") != address_network("2001:db8:1:2::a")
    assert address_network("192.0.2.7") == "192.0.2.7"

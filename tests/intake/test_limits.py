"""Abuse limits that spare people: what an abuser spends is counted, a shared network
address only as an outer bound, refused or invalid work never, and a refusal says
when to come back and whom to call."""

import time
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from clinics.models import Location
from intake.models import IntakeDraft, QuestionnaireVersion, ResumeEmail, Submission
from intake.services.resume import resume_email_send_due
from intake.tasks import resume_email_send_task
from intake.throttling import email_normalise, rate_parse
from tests.support.answers import complete_answers
from tests.support.form_steps import (
    STEPS,
    fill_all,
    fill_until_last,
    save_data,
    step_data,
)

SUBMISSIONS = "/api/v1/submissions"
START = "/en/consultation/"
CLINIC_PHONE = "+90 212 555 01 23"


@pytest.fixture
def clinic_phone(location: Location) -> str:
    location.phone = CLINIC_PHONE
    location.save(update_fields=["phone"])
    return CLINIC_PHONE


def person(number: int, **overrides: Any) -> dict[str, Any]:
    """A different person each time: their own name, email and phone."""
    own = {
        "full_name": f"Person {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[number % 26]} Yılmaz",
        "email": f"person-{number}@example.com",
        "phone": f"0532 {100 + number} 22 33",
    }
    return complete_answers(**{**own, **overrides})


def submit(api_client: APIClient, answers: dict[str, Any], **headers: str) -> Any:
    return api_client.post(
        SUBMISSIONS,
        {"language": "en", "answers": answers},
        format="json",
        headers=headers,
    )


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("5/hour", (5, 3600)),
        ("3/day", (3, 86400)),
        ("30/10minutes", (30, 600)),
        ("2 / 15 minute", (2, 900)),
        ("1/second", (1, 1)),
    ],
)
def test_a_rate_reads_as_a_count_per_window(rate: str, parsed: tuple[int, int]) -> None:
    assert rate_parse(rate) == parsed


@pytest.mark.parametrize("rate", ["5", "5/fortnight", "many/hour", ""])
def test_a_rate_that_is_not_one_is_refused(rate: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        rate_parse(rate)


@pytest.mark.parametrize(
    ("email", "inbox"),
    [
        ("Ayse@Example.com ", "ayse@example.com"),
        ("ayse+clinic@example.com", "ayse@example.com"),
        ("a.y.s.e+1@googlemail.com", "ayse@gmail.com"),
        ("a.yse@example.com", "a.yse@example.com"),  # dots matter elsewhere
    ],
)
def test_addresses_that_reach_one_inbox_count_as_one(email: str, inbox: str) -> None:
    assert email_normalise(email) == inbox


@pytest.mark.django_db
def test_the_sixth_and_the_twentieth_person_behind_one_address_get_through(
    client: Client, api_client: APIClient, published: QuestionnaireVersion
) -> None:
    # Six people on the clinic's Wi-Fi use the form, a clinic website posts for
    # fourteen more: the test client and the API client both come from 127.0.0.1.
    for number in range(6):
        assert "/consultation/done/" in fill_all(Client(), person(number))["Location"]
    codes = [submit(api_client, person(number)).status_code for number in range(6, 20)]

    assert codes == [201] * 14
    assert Submission.objects.count() == 20


@pytest.mark.django_db
def test_invalid_attempts_do_not_count_against_any_limit(
    api_client: APIClient, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_RATE_LIMIT = "1/hour"
    settings.INTAKE_RATE_LIMIT_EMAIL = "1/day"
    settings.INTAKE_RATE_LIMIT_PHONE = "1/day"
    invalid = [
        submit(api_client, complete_answers(birth_date=None)).status_code
        for _ in range(5)
    ]

    valid = submit(api_client, complete_answers())

    assert invalid == [400] * 5
    assert valid.status_code == 201, valid.json()


@pytest.mark.django_db
def test_one_email_past_its_limit_is_told_when_to_come_back_and_whom_to_call(
    published: QuestionnaireVersion, clinic_phone: str
) -> None:
    for number in range(3):  # a returning person writes again: fine, three times
        fill_all(Client(), person(number, email="ayse@example.com"))

    fourth = Client()
    answers = person(3, email="Ayse+again@Example.com")
    last = fill_until_last(fourth, answers)
    response = fourth.post(last, step_data(len(STEPS), answers))

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 86400
    page = response.content.decode()
    assert "Several questionnaires were sent with this email address recently" in page
    assert "Your answers are kept" in page
    assert "Please try again in about 24 hours." in page
    assert f"please call us on {clinic_phone}" in page
    assert 'value="Person D Yılmaz"' in page  # what was typed is still there
    assert Submission.objects.count() == 3
    assert IntakeDraft.objects.count() == 1


@pytest.mark.django_db
def test_the_wait_is_what_is_left_of_the_window(
    api_client: APIClient,
    published: QuestionnaireVersion,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.INTAKE_RATE_LIMIT_PHONE = "1/hour"
    assert submit(api_client, person(1, phone="0532 999 88 77")).status_code == 201
    forty_minutes_on = time.time() + 40 * 60
    monkeypatch.setattr(
        "intake.throttling.time", SimpleNamespace(time=lambda: forty_minutes_on)
    )

    response = submit(api_client, person(2, phone="+90 532 999 88 77"))

    assert response.status_code == 429
    assert "Please try again in about 20 minutes." in response.json()["message"]
    assert 1190 <= int(response["Retry-After"]) <= 1200


@pytest.mark.django_db
def test_the_api_answers_429_with_retry_after_and_the_error_body(
    api_client: APIClient, published: QuestionnaireVersion, clinic_phone: str
) -> None:
    codes = [
        submit(api_client, person(n, phone="0532 777 66 55")).status_code
        for n in range(3)
    ]

    refused = submit(api_client, person(3, phone="0532 777 66 55"))

    assert codes == [201, 201, 201]
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["fields"] == {}
    assert body["message"].startswith(
        "Several questionnaires were sent with this phone number recently."
    )
    assert "Please try again in about 24 hours." in body["message"]
    assert clinic_phone in body["message"]
    assert 86000 < int(refused["Retry-After"]) <= 86400
    assert Submission.objects.count() == 3


@pytest.mark.django_db
def test_a_retry_with_its_key_gets_its_submission_back_even_past_the_limit(
    api_client: APIClient, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_RATE_LIMIT_EMAIL = "1/day"
    first = submit(api_client, complete_answers(), **{"Idempotency-Key": "visit-1"})

    again = submit(api_client, complete_answers(), **{"Idempotency-Key": "visit-1"})

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_the_cache_holds_no_address_email_phone_or_session(
    client: Client, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    fill_all(client, person(7, email="gizli.kisi@example.com"))

    server = redis.Redis.from_url(
        settings.CACHES["default"]["LOCATION"], decode_responses=True
    )
    keys = " ".join(str(key) for key in server.keys("*"))
    assert "intake:limit:submission:email:" in keys
    for secret in ("gizli", "example.com", "127.0.0.1", "532107", "905321072233"):
        assert secret not in keys
    assert str(client.session.session_key) not in keys


@pytest.mark.django_db
def test_a_flood_of_quick_starts_is_refused_with_the_wait_and_the_phone(
    published: QuestionnaireVersion, clinic_phone: str
) -> None:
    # A script: no page read, no cookies kept, one consent post after another.
    codes = [
        Client().post(START, {"consent_health": "on"}).status_code for _ in range(40)
    ]

    refused = Client().post(START, {"consent_health": "on"})

    assert codes == [302] * 30 + [429] * 10
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "Too many questionnaires were started from your network" in page
    assert "Please try again in about 10 minutes." in page
    assert clinic_phone in page
    assert 'name="consent_health" id="id_consent_health" checked' in page
    assert 590 <= int(refused["Retry-After"]) <= 600
    assert IntakeDraft.objects.count() == 30


@pytest.mark.django_db
def test_after_a_flood_of_quick_starts_a_person_who_reads_the_page_starts(
    published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_DRAFT_RATE_LIMIT = "3/10minutes"
    settings.INTAKE_START_READ_SECONDS = 0  # the person has read it by the click
    flood = [
        Client().post(START, {"consent_health": "on"}).status_code for _ in range(5)
    ]

    reader = Client()
    assert reader.get(START).status_code == 200
    started = reader.post(START, {"consent_health": "on"})

    assert flood == [302, 302, 302, 429, 429]
    assert started.status_code == 302


@pytest.mark.django_db
def test_one_browser_starting_again_and_again_is_refused(
    client: Client, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_DRAFT_RATE_LIMIT_SESSION = "3/hour"
    settings.INTAKE_START_READ_SECONDS = 0
    client.get(START)
    codes = [client.post(START, {"consent_health": "on"}).status_code for _ in range(4)]

    response = client.post(START, {"consent_health": "on"})

    assert codes == [302, 302, 302, 429]
    assert "Too many questionnaires were started in this browser" in (
        response.content.decode()
    )
    assert Client().post(START, {"consent_health": "on"}).status_code == 302


@pytest.mark.django_db
def test_a_start_without_consent_does_not_count(
    published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    settings.INTAKE_DRAFT_RATE_LIMIT = "1/10minutes"
    refused = [Client().post(START, {}).status_code for _ in range(3)]

    assert refused == [400] * 3
    assert Client().post(START, {"consent_health": "on"}).status_code == 302


def _save_for_later(email: str) -> str:
    """A new person on their own draft asks for the link; the page they land on."""
    browser = Client()
    browser.post(START, {"consent_health": "on"})
    browser.post("/en/consultation/step/1/", step_data(1, complete_answers()))
    response = browser.post("/en/consultation/step/2/", save_data(email), follow=True)
    return str(response.content.decode())


def _send_what_is_due(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[int] = []
    monkeypatch.setattr(resume_email_send_task, "delay", handed.append)
    resume_email_send_due()
    for resume_email_id in handed:
        resume_email_send_task.run(resume_email_id)


@pytest.mark.django_db
def test_resume_links_to_one_inbox_are_capped_across_drafts(
    published: QuestionnaireVersion,
    clinic_phone: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Fifteen drafts, one victim's inbox, spelled a few ways.
    spellings = ["kurban@example.com", "Kurban@example.com", "kurban+x@example.com"]
    pages = [_save_for_later(spellings[n % 3]) for n in range(15)]
    _send_what_is_due(monkeypatch)

    assert len(mail.outbox) == 3
    assert ResumeEmail.objects.count() == 3
    assert all("We have emailed you a link" in page for page in pages[:3])
    refusal = pages[3]
    assert "Several links were sent to this email address just now." in refusal
    assert "Please try again in about 60 minutes." in refusal
    assert clinic_phone in refusal
    # The refused drafts may ask again (for another inbox) at once.
    assert IntakeDraft.objects.filter(resume_requested_at__isnull=True).count() == 12


@pytest.mark.django_db
def test_resume_links_from_one_address_are_capped(
    published: QuestionnaireVersion,
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.INTAKE_RESUME_RATE_LIMIT = "2/hour"
    pages = [_save_for_later(f"kisi-{n}@example.com") for n in range(4)]
    _send_what_is_due(monkeypatch)

    assert len(mail.outbox) == 2
    assert "Too many links were requested from your network" in pages[2]
    assert "Too many links were requested from your network" in pages[3]


@pytest.mark.django_db
def test_the_refusal_speaks_turkish_under_tr(
    published: QuestionnaireVersion, clinic_phone: str, settings: SettingsWrapper
) -> None:
    settings.INTAKE_DRAFT_RATE_LIMIT = "1/10minutes"
    Client().post("/tr/consultation/", {"consent_health": "on"})

    response = Client().post("/tr/consultation/", {"consent_health": "on"})

    assert response.status_code == 429
    page = response.content.decode()
    assert "Az önce ağınızdan çok sayıda form başlatıldı." in page
    assert "Lütfen yaklaşık 10 dakika sonra yeniden deneyin." in page
    assert f"Bekleyemeyecekseniz lütfen bizi {clinic_phone} numarasından" in page

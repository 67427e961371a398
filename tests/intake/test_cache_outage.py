"""With the cache's Redis unreachable, patients still send and save (the limits
fail open, logged); the resume-email interval holds, because it lives in the DB."""

import logging
from collections.abc import Iterator

import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from intake.models import IntakeDraft, QuestionnaireVersion, ResumeEmail, Submission
from intake.services.resume import resume_email_send_due
from intake.tasks import resume_email_send_task
from tests.support.answers import complete_answers
from tests.support.form_steps import fill_all, save_data, start, step_data

# Nothing listens on port 1: every cache call fails at once with ConnectionError.
UNREACHABLE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def redis_unreachable(settings: SettingsWrapper) -> Iterator[None]:
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE
    yield
    settings.CACHES = reachable  # before the autouse fixture clears the cache


@pytest.mark.django_db
def test_an_api_submission_is_stored_while_the_cache_is_down(
    api_client: APIClient,
    published: QuestionnaireVersion,
    redis_unreachable: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="intake.throttling"):
        response = api_client.post(
            "/api/v1/submissions",
            {"language": "en", "answers": complete_answers()},
            format="json",
        )

    assert response.status_code == 201, response.content
    assert Submission.objects.filter(code=response.json()["id"]).exists()
    assert "rate limit cache unreachable (ConnectionError)" in caplog.text


@pytest.mark.django_db
def test_the_screening_evaluator_answers_while_the_cache_is_down(
    api_client: APIClient, published: QuestionnaireVersion, redis_unreachable: None
) -> None:
    response = api_client.post(
        "/api/v1/screening/evaluate",
        {"answers": complete_answers()},
        format="json",
    )

    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_the_form_sends_and_saves_while_the_cache_is_down(
    client: Client,
    published: QuestionnaireVersion,
    redis_unreachable: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = fill_all(client, complete_answers())
    assert Submission.objects.count() == 1
    assert "/consultation/done/" in page["Location"]

    other = Client()
    start(other)
    other.post("/en/consultation/step/1/", step_data(1, complete_answers()))
    save = {"action": "save", "resume_email": "ayse@example.com"}
    saved = other.post("/en/consultation/step/2/", save)
    again = other.post("/en/consultation/step/2/", save, follow=True)

    assert saved.status_code in (200, 302)
    assert IntakeDraft.objects.get().resume_requested_at is not None
    assert "We have just sent you a link" in again.content.decode()
    # The broker was not reached in this test: the sweep hands over what is owed,
    # and it is sent once.
    handed: list[int] = []
    monkeypatch.setattr(resume_email_send_task, "delay", handed.append)
    assert resume_email_send_due() == 1
    for resume_email_id in handed:
        resume_email_send_task.run(resume_email_id)
    assert resume_email_send_due() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_starts_and_submissions_past_their_limits_go_through_while_the_cache_is_down(
    api_client: APIClient,
    published: QuestionnaireVersion,
    redis_unreachable: None,
    settings: SettingsWrapper,
) -> None:
    settings.INTAKE_DRAFT_RATE_LIMIT = "1/10minutes"
    settings.INTAKE_RATE_LIMIT_EMAIL = "1/day"
    for _ in range(3):
        start(Client())
    codes = [
        api_client.post(
            "/api/v1/submissions",
            {"language": "en", "answers": complete_answers()},
            format="json",
        ).status_code
        for _ in range(3)
    ]

    assert IntakeDraft.objects.count() == 3
    assert codes == [201, 201, 201]


@pytest.mark.django_db
def test_the_resume_link_limit_per_inbox_holds_while_the_cache_is_down(
    published: QuestionnaireVersion,
    redis_unreachable: None,
    settings: SettingsWrapper,
) -> None:
    settings.INTAKE_RESUME_RATE_LIMIT_RECIPIENT = "2/hour"
    pages = []
    for _ in range(4):
        browser = Client()
        start(browser)
        browser.post("/en/consultation/step/1/", step_data(1, complete_answers()))
        response = browser.post(
            "/en/consultation/step/2/", save_data("ayse@example.com"), follow=True
        )
        pages.append(response.content.decode())

    assert ResumeEmail.objects.count() == 2
    assert "Several links were sent to this email address" in pages[2]

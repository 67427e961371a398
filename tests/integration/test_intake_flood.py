"""A scripted flood on loopback is refused while a person at human pace, from the
same address, gets through: measured against a real web server (gunicorn) with the
shipped limits, on its own Redis.

The script starts questionnaires as fast as it can, each from a fresh cookie jar
(so no session limit helps), answers every step at machine speed with one email
address, then waits out the minimum fill time and sends again. The person opens the
start page, reads it, and answers a step every second or so.
"""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.db import connection

from clinics.models import Location
from intake.models import IntakeDraft, QuestionnaireVersion, Submission
from tests.support import services
from tests.support.answers import complete_answers
from tests.support.form_steps import STEPS, step_data
from tests.support.redis_process import (
    RedisProcess,
    redis_server_installed,
    running_redis,
)
from tests.support.web_server import Browser, WebServer, running_web_server

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

START = "/en/consultation/"
FLOOD_STARTS = 200
FLOOD_SECONDS = 30
# Short enough for the test, long enough that machine speed is refused.
MIN_FILL_SECONDS = 4
CLINIC_PHONE = "+90 212 555 01 23"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """Cache and broker of their own: the flood's counters and tasks touch no
    Redis that other runs share."""
    if not redis_server_installed():
        message = "redis-server is not installed (apt-get install redis-server)"
        if services.in_ci():
            pytest.fail(f"{message} (CI=true: a missing service is a failure)")
        pytest.skip(message)
    with running_redis(tmp_path_factory.mktemp("redis") / "redis.log") as server:
        yield server


@pytest.fixture(scope="module")
def web_server(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    private_redis: RedisProcess,
) -> Iterator[WebServer]:
    # Every limit at its shipped default; only the minimum fill time is shorter.
    with running_web_server(
        database_name=connection.settings_dict["NAME"],
        log_path=tmp_path_factory.mktemp("web") / "gunicorn.log",
        environment={
            "CELERY_BROKER_URL": private_redis.url(0),
            "REDIS_URL": private_redis.url(1),
            "INTAKE_MIN_FILL_SECONDS": str(MIN_FILL_SECONDS),
        },
    ) as server:
        yield server


def _answers(name: str, email: str, phone: str) -> dict[str, Any]:
    return complete_answers(full_name=name, email=email, phone=phone)


def _answer_all_steps(browser: Browser, answers: dict[str, Any]) -> requests.Response:
    """Every step but the last at once; the last step's answer (the send)."""
    for number in range(1, len(STEPS)):
        step = browser.post(f"{START}step/{number}/", step_data(number, answers))
        assert step.status_code == 302, step.text[:2000]
    return _send(browser, answers)


def _send(browser: Browser, answers: dict[str, Any]) -> requests.Response:
    last = len(STEPS)
    return browser.post(f"{START}step/{last}/", step_data(last, answers))


def test_a_scripted_flood_is_refused_while_a_person_from_the_same_address_gets_through(
    web_server: WebServer, published: QuestionnaireVersion, location: Location
) -> None:
    location.phone = CLINIC_PHONE
    location.save(update_fields=["phone"])
    bot = _answers("Bot Botson", "bot@example.com", "0532 000 00 01")

    # When a script starts questionnaires from 127.0.0.1 as fast as it can, bounded
    # by count and time, and answers each one at machine speed
    started: list[Browser] = []
    starts_refused = 0
    sends_refused = 0
    refusal = ""
    flood_began = time.monotonic()
    attempts = 0
    while attempts < FLOOD_STARTS and time.monotonic() - flood_began < FLOOD_SECONDS:
        attempts += 1
        browser = Browser(web_server)  # a fresh cookie jar every time
        browser.get(START)
        response = browser.post(START, {"consent_health": "on"})
        if response.status_code == 429:
            starts_refused += 1
            refusal = refusal or response.text
            continue
        assert response.status_code == 302, response.text[:2000]
        started.append(browser)
        sent = _answer_all_steps(browser, bot)
        assert sent.status_code == 400, sent.text[:2000]  # quicker than anyone reads
        sends_refused += 1
    # and, once the minimum fill time has passed, sends every draft again
    time.sleep(MIN_FILL_SECONDS)
    sends_accepted = 0
    for browser in started:
        sent = _send(browser, bot)
        if sent.status_code == 302:
            sends_accepted += 1
        else:
            assert sent.status_code == 429, sent.text[:2000]
            sends_refused += 1
    flood_seconds = time.monotonic() - flood_began

    # Then most of it is refused: the quick starts past their bound, the sends at
    # machine speed, and the sends past the one email address's limit
    sends = 2 * len(started)
    accepted = len(started) + sends_accepted
    refused = starts_refused + sends_refused
    print(
        f"\nflood starts: {len(started)} accepted, {starts_refused} refused of "
        f"{attempts}"
    )
    print(f"flood sends: {sends_accepted} accepted, {sends_refused} refused of {sends}")
    print(
        f"flood: {accepted} accepted, {refused} refused of {attempts + sends} "
        f"in {flood_seconds:.1f} s"
    )
    assert attempts == FLOOD_STARTS, "the flood should end by count, not by time"
    assert len(started) == 30  # INTAKE_DRAFT_RATE_LIMIT, 30/10minutes
    assert starts_refused == FLOOD_STARTS - 30
    assert sends_accepted == 3  # INTAKE_RATE_LIMIT_EMAIL, 3/day
    assert sends_refused == 30 + 27
    assert refused > 4 * accepted
    assert "Please try again in about 10 minutes." in refusal
    assert CLINIC_PHONE in refusal
    assert Submission.objects.count() == 3

    # When a person on the same address opens the page, reads it, and answers a
    # step every second or so
    person_began = time.monotonic()
    person = Browser(web_server)
    assert person.get(START).status_code == 200
    time.sleep(3.5)  # the privacy notice and the consent, read
    response = person.post(START, {"consent_health": "on"})
    assert response.status_code == 302, response.text[:2000]
    answers = _answers("Ayşe Yılmaz", "ayse.yilmaz@example.com", "0532 123 45 67")
    for number in range(1, len(STEPS) + 1):
        time.sleep(1.0)
        step = person.post(f"{START}step/{number}/", step_data(number, answers))
        assert step.status_code == 302, step.text[:2000]
    person_seconds = time.monotonic() - person_began
    print(f"person: accepted in {person_seconds:.1f} s ({len(STEPS) + 1} posts)")

    # Then their questionnaire is taken, and the next steps page is theirs
    assert "/consultation/done/" in step.headers["Location"]
    assert person.get(step.headers["Location"]).status_code == 200
    assert Submission.objects.filter(email="ayse.yilmaz@example.com").count() == 1
    assert Submission.objects.count() == 4
    assert IntakeDraft.objects.count() == 30 - 3

"""The mail server, the practitioner's CalDAV server and the integrator's webhook
receiver all hang (take the connection and never answer), or all refuse: patients
still send the questionnaire and book, and staff pages answer, at once; the work
waits, is tried again, and the lead page says what is waiting; once the receivers
answer again everything goes, once.

The real parts: a web server process (gunicorn), a worker process, a private
redis-server, an SMTP server, Radicale, a webhook receiver, and a TCP proxy in front
of each of the three that the test makes hang, refuse or pass.
"""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from booking.ics import booking_event_uid
from booking.links import booking_link_make, booking_link_url
from booking.models import Booking, CalendarSync, PractitionerCalendar
from booking.offers import booking_choices
from clinics.models import Location
from core.models import DELIVERY_ACTIVE, DeliveryStatus
from followups.models import FollowUpMessage
from intake.models import QuestionnaireVersion
from leads.models import Lead, WebhookDelivery, WebhookEndpoint
from tests.faults.conftest import fault_report
from tests.support import services
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.caldav_server import PASSWORD, USER, RadicaleServer
from tests.support.factories import StaffMemberFactory
from tests.support.fault_proxy import FaultProxy, Mode, fault_proxy
from tests.support.redis_process import (
    RedisProcess,
    redis_server_installed,
    running_redis,
)
from tests.support.smtp import SmtpServer, running_smtp_server
from tests.support.web_server import Browser, WebServer, running_web_server
from tests.support.webhook_receiver import WebhookReceiver, running_webhook_receiver
from tests.support.worker import WorkerProcess, running_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# A page or an API answer while every receiver hangs: well inside this.
FAST_SECONDS = 2.0
# The clients' timeouts (EMAIL_TIMEOUT, the webhook and CalDAV clients) are 10 s: a
# hung receiver costs an attempt that long.
ATTEMPT_TIMEOUT_SECONDS = 45
TEST_LIMIT_SECONDS = 85
SECRET = "whsec-faults-slow-0123456789"
PASSWORD_OF_STAFF = "correct horse battery staple"
MONDAY_10 = next_monday_at(10)
SWEEPS = (
    "followups.tasks.followup_send_due_task",
    "booking.tasks.calendar_sync_send_due_task",
    "leads.webhooks.tasks.webhook_delivery_send_due_task",
)
OUTBOXES: tuple[type[Model], ...] = (FollowUpMessage, CalendarSync, WebhookDelivery)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    if not redis_server_installed():
        message = "redis-server is not installed (apt-get install redis-server)"
        if services.in_ci():
            pytest.fail(f"{message} (CI=true: a missing service is a failure)")
        pytest.skip(message)
    with running_redis(tmp_path / "redis.log") as server:
        yield server


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[RadicaleServer]:
    server = RadicaleServer(tmp_path / "radicale")
    server.folder.mkdir()
    server.start()
    try:
        server.make_calendar()
        yield server
    finally:
        server.stop()


def _timed(call: Any, *args: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call(*args)
    return result, time.monotonic() - started


def _wait_until_tried(timeout: float = ATTEMPT_TIMEOUT_SECONDS) -> None:
    """Until every outbox row was tried at least once and waits for another try."""
    deadline = time.monotonic() + timeout
    while True:
        waiting = [
            (model.__name__, status, attempts)
            for model in OUTBOXES
            for status, attempts in model._default_manager.values_list(
                "status", "attempts"
            )
            if status != DeliveryStatus.PENDING or attempts == 0
        ]
        if not waiting:
            return
        assert time.monotonic() < deadline, f"not tried yet: {waiting}"
        time.sleep(0.2)


def _all_sent(worker: WorkerProcess, timeout: float = 30) -> None:
    """Send beat's sweeps until every outbox row is sent."""
    deadline = time.monotonic() + timeout
    while True:
        unsent = [
            (model.__name__, status)
            for model in OUTBOXES
            for status in model._default_manager.exclude(
                status=DeliveryStatus.SENT
            ).values_list("status", flat=True)
        ]
        if not unsent:
            return
        assert time.monotonic() < deadline, f"never sent: {unsent}"
        for sweep in SWEEPS:
            worker.send_task(sweep)
        time.sleep(1)


@pytest.mark.parametrize("fault", [Mode.HANG, Mode.REFUSE], ids=["hang", "refuse"])
def test_receivers_that_hang_or_refuse_slow_no_page_and_lose_nothing(
    fault: Mode,
    published: QuestionnaireVersion,
    location: Location,
    private_redis: RedisProcess,
    radicale: RadicaleServer,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    smtp: SmtpServer
    receiver: WebhookReceiver
    smtp_proxy: FaultProxy
    with (
        running_smtp_server(tmp_path / "maildir") as smtp,
        running_webhook_receiver(secret=SECRET) as receiver,
        fault_proxy(smtp.port) as smtp_proxy,
        fault_proxy(urlsplit(receiver.url).port or 0) as hook_proxy,
        fault_proxy(radicale.port) as caldav_proxy,
    ):
        # Given a coordinator, a physician whose calendar is on CalDAV and an
        # integrator's endpoint, each reached through its proxy
        StaffMemberFactory.create(locations=[location], user__username="deniz")
        doctor = practitioner_make(location)
        appointment_make(doctor)
        calendar = PractitionerCalendar(
            practitioner=doctor, kind=PractitionerCalendar.Kind.CALDAV
        )
        calendar.caldav_url = radicale.calendar_url().replace(
            str(radicale.port), str(caldav_proxy.port)
        )
        calendar.caldav_username = USER
        calendar.caldav_password = PASSWORD
        calendar.save()
        WebhookEndpoint.objects.create(
            name="CRM",
            url=receiver.url.replace(
                str(urlsplit(receiver.url).port), str(hook_proxy.port)
            ),
            secret=SECRET,
            event_types=["lead.created", "booking.created"],
        )
        database_name = connection.settings_dict["NAME"]
        broker = {
            "CELERY_BROKER_URL": private_redis.url(0),
            "REDIS_URL": private_redis.url(1),
        }
        (tmp_path / "worker").mkdir()
        web: WebServer
        with (
            running_web_server(
                database_name=database_name,
                log_path=tmp_path / "gunicorn.log",
                environment={**broker, "INTAKE_MIN_FILL_SECONDS": "0"},
            ) as web,
            running_worker(
                database_name=database_name,
                log_path=tmp_path / "worker" / "worker.log",
                email_url=f"smtp://127.0.0.1:{smtp_proxy.port}",
                broker_url=broker["CELERY_BROKER_URL"],
                cache_url=broker["REDIS_URL"],
                concurrency=4,
            ) as worker,
        ):
            # When every receiver hangs (or refuses)
            for proxy in (smtp_proxy, hook_proxy, caldav_proxy):
                proxy.set_mode(fault)
            timings: dict[str, float] = {}

            # then a questionnaire sent to the API is taken at once,
            answers = complete_answers(
                full_name="Slow Receiver", email="slow@example.com"
            )
            sent, timings["submission"] = _timed(
                Browser(web).post_json, "/api/v1/submissions", {"answers": answers}
            )
            assert sent.status_code == 201, sent.text[:2000]
            lead = Lead.objects.get(email="slow@example.com")
            # the person books a time through their link at once,
            link = booking_link_make(lead=lead, now=timezone.now())
            page = urlsplit(booking_link_url(link, language="en")).path
            (offered,) = booking_choices(lead=lead, now=timezone.now(), since=MONDAY_10)
            patient = Browser(web)
            assert patient.get(page).status_code == 200
            booked, timings["booking"] = _timed(
                patient.post, page + "book/", {"time": offered.times[0].choice}
            )
            assert booked.status_code in {200, 302}, booked.text[:2000]
            booking = Booking.objects.get(lead=lead)
            # and the lead page answers at once.
            staff = Browser(web)
            staff.get("/staff/sign-in/")
            signed_in = staff.post(
                "/staff/sign-in/", {"username": "deniz", "password": PASSWORD_OF_STAFF}
            )
            assert signed_in.status_code == 302, signed_in.text[:2000]
            lead_page = f"/staff/leads/{lead.code}/"
            shown, timings["lead_page"] = _timed(staff.get, lead_page)
            assert shown.status_code == 200

            # The worker tries each email, calendar sync and webhook, and each
            # waits for another try;
            _wait_until_tried()
            tried, timings["lead_page_after"] = _timed(staff.get, lead_page)
            # the lead page says the emails are waiting and why, and that the
            # booking waits to reach the calendar.
            assert tried.status_code == 200
            page_text = tried.text
            assert "Waiting to be sent" in page_text
            expected_error = "timed out" if fault is Mode.HANG else "refused"
            assert expected_error in page_text.lower(), page_text[-4000:]
            assert "waiting to sync" in page_text
            assert max(timings.values()) < FAST_SECONDS, timings
            attempts_while_down = {
                model.__name__: max(
                    model._default_manager.values_list("attempts", flat=True)
                )
                for model in OUTBOXES
            }
            errors = {
                model.__name__: sorted(
                    {
                        error.split(":")[0]
                        for error in model._default_manager.values_list(
                            "last_error", flat=True
                        )
                    }
                )
                for model in OUTBOXES
            }

            # When the receivers answer again and the waits have passed
            for proxy in (smtp_proxy, hook_proxy, caldav_proxy):
                proxy.set_mode(Mode.PASS)
            for model in OUTBOXES:
                model._default_manager.filter(status__in=DELIVERY_ACTIVE).update(
                    next_attempt_at=timezone.now()
                )
            # then everything goes, once.
            _all_sent(worker)
            time.sleep(2)  # anything sent twice would be in by now
            messages = smtp.messages()
            posts = receiver.received()
    events = radicale.events()

    message_ids = set(FollowUpMessage.objects.values_list("message_id", flat=True))
    received_ids = Counter(str(message["Message-ID"]) for message in messages)
    assert set(received_ids) == message_ids
    assert set(received_ids.values()) == {1}
    event_ids = {
        str(code) for code in WebhookDelivery.objects.values_list("code", flat=True)
    }
    assert Counter(post.headers["X-Clinic-Event-Id"] for post in posts) == Counter(
        event_ids
    )
    uids = [str(event.icalendar_component["UID"]) for event in events]
    assert uids == [booking_event_uid(booking)]
    elapsed = time.monotonic() - started
    fault_report(
        f"receivers-{fault.value}",
        lost=0,
        duplicated=0,
        slowest_request_s=round(max(timings.values()), 2),
        attempts_while_down=attempts_while_down,
        errors=errors,
        emails=len(message_ids),
        events=len(event_ids),
        run_s=round(elapsed, 1),
    )
    assert elapsed < TEST_LIMIT_SECONDS

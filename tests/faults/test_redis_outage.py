"""Redis goes away and comes back, five times in a row: patients can send the
questionnaire and book through their link all along, follow-ups fall due meanwhile,
and the worker that was running before sends what waited, once, when Redis returns:
each email once at the mail server, each booking once in the practitioner's CalDAV
calendar.

The real parts: a private redis-server that the test stops and starts (broker and
cache), a worker process, a web server process (gunicorn), an SMTP server process,
Radicale, and PostgreSQL. Beat is played by the test, which sends the due sweeps
itself once Redis is back (while it is away, beat cannot hand anything out).
"""

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.utils import timezone

from booking.ics import booking_event_uid
from booking.links import booking_link_make, booking_link_url
from booking.models import Booking, CalendarSync, PractitionerCalendar
from booking.offers import booking_choices
from clinics.models import Location
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from intake.models import QuestionnaireVersion, ResumeEmail, Submission
from leads.models import AssignmentRule, Lead, StaffNotification
from tests.faults.conftest import fault_report
from tests.support import services
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.caldav_server import PASSWORD, USER, RadicaleServer
from tests.support.factories import StaffMemberFactory
from tests.support.form_steps import STEPS, save_data, step_data
from tests.support.redis_process import (
    RedisProcess,
    Stop,
    redis_server_installed,
    running_redis,
)
from tests.support.smtp import SmtpServer, subject_of
from tests.support.waiting import wait_for_status
from tests.support.web_server import Browser, WebServer, running_web_server
from tests.support.worker import WorkerProcess, running_worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Each way Redis can go: asked to stop, told to quit without saving, killed.
OUTAGES = (Stop.TERMINATE, Stop.SHUTDOWN, Stop.KILL, Stop.TERMINATE, Stop.SHUTDOWN)
CYCLE_TIMEOUT_SECONDS = 60
# Long enough to be running when Redis stops, short enough to end in the outage.
HOLD_SECONDS = 2
COORDINATOR = "deniz@clinic.example"
OUTBOX_SWEEP = "leads.tasks.outbox_send_due_task"
RESUME_SWEEP = "intake.tasks.resume_email_send_due_task"
FOLLOWUP_SWEEP = "followups.tasks.followup_send_due_task"
CALENDAR_SWEEP = "booking.tasks.calendar_sync_send_due_task"
HOLD_TASK = "tests.support.worker_tasks.delivery_hold_task"
STAFF_SEND_TASK = "leads.tasks.staff_notification_send_task"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    if not redis_server_installed():
        message = "redis-server is not installed (apt-get install redis-server)"
        if services.in_ci():
            pytest.fail(f"{message} (CI=true: a missing service is a failure)")
        pytest.skip(message)
    with running_redis(tmp_path_factory.mktemp("redis") / "redis.log") as server:
        yield server


@pytest.fixture(scope="module")
def outage_worker(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: SmtpServer,
    private_redis: RedisProcess,
) -> Iterator[WorkerProcess]:
    with running_worker(
        database_name=connection.settings_dict["NAME"],
        log_path=tmp_path_factory.mktemp("outage-worker") / "worker.log",
        email_url=smtp_server.url,
        broker_url=private_redis.url(0),
        cache_url=private_redis.url(1),
        include=["tests.support.worker_tasks"],
    ) as worker:
        yield worker


@pytest.fixture(scope="module")
def web_server(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    private_redis: RedisProcess,
) -> Iterator[WebServer]:
    with running_web_server(
        database_name=connection.settings_dict["NAME"],
        log_path=tmp_path_factory.mktemp("web") / "gunicorn.log",
        environment={
            "CELERY_BROKER_URL": private_redis.url(0),
            "REDIS_URL": private_redis.url(1),
            "INTAKE_MIN_FILL_SECONDS": "0",
        },
    ) as server:
        yield server


def _patient(name: str, number: int) -> dict[str, Any]:
    """Answers of a distinct person each time, so that no two become one lead."""
    return complete_answers(
        full_name=f"{name} Patient {'ABCDEFGHIJ'[number]}",
        email=f"{name.lower()}-{number}@example.com",
        phone=f"0532 {100 + number} {11 if name == 'Api' else 22} 33",
    )


def _send_through_the_form(web_server: WebServer, answers: dict[str, Any]) -> str:
    """Consent, answer every step and send, as a browser does; the done page."""
    browser = Browser(web_server)
    assert browser.get("/en/consultation/").status_code == 200
    started = browser.post("/en/consultation/", {"consent_health": "on"})
    assert started.status_code == 302, started.text[:2000]
    for number in range(1, len(STEPS) + 1):
        step = browser.post(
            f"/en/consultation/step/{number}/", step_data(number, answers)
        )
        assert step.status_code == 302, step.text[:2000]
    return step.headers["Location"]


def _save_for_later(web_server: WebServer, answers: dict[str, Any], email: str) -> None:
    browser = Browser(web_server)
    browser.get("/en/consultation/")
    browser.post("/en/consultation/", {"consent_health": "on"})
    browser.post("/en/consultation/step/1/", step_data(1, answers))
    saved = browser.post("/en/consultation/step/2/", save_data(email))
    assert saved.status_code == 302, saved.text[:2000]


def _run_sweeps(worker: WorkerProcess) -> None:
    """Send the due sweeps through the broker, as beat does each minute; wait for
    them to finish."""
    sweeps = [
        worker.send_task(name)
        for name in (OUTBOX_SWEEP, RESUME_SWEEP, FOLLOWUP_SWEEP, CALENDAR_SWEEP)
    ]
    for sweep in sweeps:
        worker.wait_for_log(f"[{sweep}] succeeded")


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


def _caldav_doctor(location: Location, radicale: RadicaleServer) -> None:
    """A physician who works every weekday, with her calendar on `radicale`."""
    doctor = practitioner_make(location, weekdays=(0, 1, 2, 3, 4))
    appointment_make(doctor)
    calendar = PractitionerCalendar(
        practitioner=doctor, kind=PractitionerCalendar.Kind.CALDAV
    )
    calendar.caldav_url = radicale.calendar_url()
    calendar.caldav_username = USER
    calendar.caldav_password = PASSWORD
    calendar.save()


def _book_through_the_link(web_server: WebServer, lead: Lead) -> None:
    """Open the person's booking link and book the first free time, as they do."""
    link = booking_link_make(lead=lead, now=timezone.now())
    page = urlsplit(booking_link_url(link, language="en")).path
    (offered,) = booking_choices(lead=lead, now=timezone.now(), since=next_monday_at(9))
    patient = Browser(web_server)
    assert patient.get(page).status_code == 200
    booked = patient.post(page + "book/", {"time": offered.times[0].choice})
    assert booked.status_code in {200, 302}, booked.text[:2000]
    assert Booking.objects.filter(lead=lead).exists()


def _follow_up_falls_due(lead: Lead) -> FollowUpMessage:
    """A timed follow-up for `lead` that comes due now, as the schedule makes it."""
    model = FollowUpMessage.objects.filter(lead=lead).first()
    assert model is not None
    return FollowUpMessage.objects.create(
        lead=lead,
        step=model.step,
        event=model.event,
        occurrence=f"outage:{timezone.now().isoformat()}",
        category=model.category,
        next_attempt_at=timezone.now(),
    )


def _wait_for_emails(smtp_server: SmtpServer, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(smtp_server.messages()) < count:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(smtp_server.messages())} of {count} emails arrived in time"
            )
        time.sleep(0.1)


def test_intake_works_through_redis_outages_and_the_same_worker_sends_what_waited(
    private_redis: RedisProcess,
    outage_worker: WorkerProcess,
    web_server: WebServer,
    smtp_server: SmtpServer,
    published: QuestionnaireVersion,
    location: Location,
    radicale: RadicaleServer,
) -> None:
    started = time.monotonic()
    # Given a coordinator whom new leads go to, a physician whose calendar is on
    # CalDAV, and a worker consuming from Redis
    StaffMemberFactory.create(
        locations=[location], user__username="deniz", user__email=COORDINATOR
    )
    AssignmentRule.objects.create(name="Everyone here", location=location)
    _caldav_doctor(location, radicale)
    worker_pid = outage_worker.pid
    assert outage_worker.stats()["pid"] == worker_pid

    for number, how in enumerate(OUTAGES, start=1):
        cycle_started = time.monotonic()
        smtp_server.clear()
        # with a late-acknowledged task running when Redis goes away
        hold = outage_worker.send_task(HOLD_TASK, HOLD_SECONDS)
        outage_worker.wait_for_log(f"[{hold}] received", timeout=10)

        # When Redis stops
        private_redis.stop(how)

        # then a questionnaire sent to the API, one sent through the form, and a
        # draft saved for later are all taken and stored
        api_answers = _patient("Api", number)
        sent = Browser(web_server).post_json(
            "/api/v1/submissions", {"answers": api_answers}
        )
        assert sent.status_code == 201, sent.text[:2000]
        done = _send_through_the_form(web_server, _patient("Form", number))
        assert "/consultation/done/" in done
        draft_email = f"draft-{number}@example.com"
        _save_for_later(web_server, _patient("Draft", number), draft_email)
        assert Submission.objects.filter(code=sent.json()["id"]).exists()
        assert Submission.objects.count() == 2 * number
        assert ResumeEmail.objects.filter(to=draft_email).exists()
        # and the person who sent it to the API books a time through their link,
        api_lead = Lead.objects.get(email=api_answers["email"])
        _book_through_the_link(web_server, api_lead)
        # while a timed follow-up to the other comes due, which beat cannot hand
        # out with Redis away.
        form_lead = Lead.objects.get(email=_patient("Form", number)["email"])
        _follow_up_falls_due(form_lead)
        # and the worker is still the one process, waiting for Redis.
        assert not outage_worker.exited(), outage_worker.log_summary()

        # When Redis is back and beat's sweeps run
        private_redis.start()
        outage_worker.wait_until_answering(timeout=45)
        _run_sweeps(outage_worker)

        # Then the coordinator hears of both leads, both patients get their
        # acknowledgment and the third person the link; the one who booked gets
        # the booking's email and the other the follow-up
        _wait_for_emails(smtp_server, 7)
        for notification in StaffNotification.objects.all():
            wait_for_status(notification, DeliveryStatus.SENT)
        for acknowledgment in FollowUpMessage.objects.all():
            wait_for_status(acknowledgment, DeliveryStatus.SENT)
        resume_email = ResumeEmail.objects.get(to=draft_email)
        wait_for_status(resume_email, DeliveryStatus.SENT)
        for sync in CalendarSync.objects.all():
            wait_for_status(sync, DeliveryStatus.SENT)
        # once each: another round of sweeps finds nothing left to send
        _run_sweeps(outage_worker)
        assert set(StaffNotification.objects.values_list("status", "attempts")) == {
            (DeliveryStatus.SENT, 1)
        }
        assert set(FollowUpMessage.objects.values_list("status", "attempts")) == {
            (DeliveryStatus.SENT, 1)
        }
        assert set(CalendarSync.objects.values_list("status", "attempts")) == {
            (DeliveryStatus.SENT, 1)
        }
        resume_email.refresh_from_db()
        assert (resume_email.status, resume_email.attempts) == (DeliveryStatus.SENT, 1)
        # and the calendar holds each booking so far, once.
        uids = Counter(
            str(event.icalendar_component["UID"]) for event in radicale.events()
        )
        assert uids == Counter(
            booking_event_uid(booking) for booking in Booking.objects.all()
        )
        assert len(uids) == number
        messages = smtp_server.messages()
        assert sorted(message["To"] for message in messages) == sorted(
            [
                COORDINATOR,
                COORDINATOR,
                draft_email,
                api_answers["email"],
                api_answers["email"],
                f"form-{number}@example.com",
                f"form-{number}@example.com",
            ]
        )
        subjects = {subject_of(m) for m in messages if m["To"] == COORDINATOR}
        # Each names its lead by reference, never the person.
        form_email = _patient("Form", number)["email"]
        assert {s.split(": ")[1].split(",")[0] for s in subjects} == {
            f"lead {Lead.objects.get(email=api_answers['email']).reference}",
            f"lead {Lead.objects.get(email=form_email).reference}",
        }
        # sent by the worker process that was running before Redis went away.
        stats = outage_worker.stats()
        assert stats["pid"] == worker_pid
        assert stats["total"][STAFF_SEND_TASK] == 2 * number
        assert not outage_worker.exited()
        assert time.monotonic() - cycle_started < CYCLE_TIMEOUT_SECONDS

    assert "Unrecoverable error" not in outage_worker.log()
    sent_ids = FollowUpMessage.objects.values_list("message_id", flat=True)
    fault_report(
        "redis-down",
        outages=len(OUTAGES),
        lost=0,
        duplicated=0,
        emails=len(sent_ids) + StaffNotification.objects.count() + len(OUTAGES),
        bookings=Booking.objects.count(),
        run_s=round(time.monotonic() - started, 1),
    )

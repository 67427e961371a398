"""No name, contact detail, answer or staff note reaches a log line or a task
message, over a whole patient's path on the real parts: the API and the form, the
hand-off, the emails a worker process sends to an SMTP server, a coordinator's note
and call, a physician's read and decision, a booking synced to a CalDAV server, and
the timed follow-ups (docs/security.md, rules 3 and 5).

What is searched: every line the test process logs, as the project's JSON formatter
writes it; the worker process's output; each task message the test process
publishes (body and headers); and every command the broker's Redis database gets,
which includes the tasks the worker enqueues itself.
"""

import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

import followups.services
from booking.links import booking_link_make, booking_link_url
from booking.models import Booking, CalendarSync, PractitionerCalendar
from booking.offers import booking_choices
from clinics.models import Location, StaffMember
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from followups.services import followup_schedule_due
from intake.models import QuestionnaireVersion, ResumeEmail
from leads.models import (
    AssignmentRule,
    Lead,
    StaffNotification,
    WebhookDelivery,
    WebhookEndpoint,
)
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, practitioner_make
from tests.support.caldav_server import PASSWORD, USER, RadicaleServer
from tests.support.form_steps import STEPS, save_data, start, step_data
from tests.support.log_capture import (
    BrokerMonitor,
    as_text,
    ascii_folded,
    leaks_find,
    lines_of,
    recording_logs,
)
from tests.support.smtp import SmtpServer
from tests.support.staff_api import staff
from tests.support.webhook_receiver import running_webhook_receiver
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "whsec-logs-0123456789abcdef"
HTMX = {"HX-Request": "true"}
SETTLE_SECONDS = 30
SWEEP = "followups.tasks.followup_send_due_task"
TASK_ID = re.compile(r'"id": "([0-9a-f-]{36})"')
OUTBOXES = (FollowUpMessage, StaffNotification, WebhookDelivery, CalendarSync)


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    email: str
    phone: str  # as typed
    phone_e164: str
    birth_date: str
    medication: str
    medication_word: str
    language: str

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def answers(self, **overrides: Any) -> dict[str, Any]:
        mine = {
            "full_name": self.full_name,
            "email": self.email,
            "phone": self.phone,
            "birth_date": self.birth_date,
            "other_medications": self.medication,
            "preferred_language": self.language,
        }
        return complete_answers(**{**mine, **overrides})

    def values(self) -> list[str]:
        """What must never be in a log line: each way the person's details could
        be written there."""
        names = [self.full_name, self.first_name, self.last_name]
        return [
            *names,
            *(ascii_folded(name) for name in names),
            self.email,
            self.email.split("@")[0],
            self.phone,
            self.phone_e164,
            self.phone_e164.lstrip("+"),
            self.birth_date,
            self.medication,
            self.medication_word,
        ]


# Through the API, in English; an allergy in their own words and aspirin, which a
# physician looks at before mesotherapy is booked.
API_PERSON = Person(
    first_name="Zümrüt",
    last_name="Kaplanoğlu",
    email="zumrut.kaplanoglu.q7@example.com",
    phone="0533 918 27 46",
    phone_e164="+905339182746",
    birth_date="1979-11-23",
    medication="Quillavex drops every morning",
    medication_word="Quillavex",
    language="en",
)
ALLERGY = "Hives after Marigoldium cream"
ALLERGY_WORD = "Marigoldium"
# Through the form, in Turkish, with a photo.
FORM_PERSON = Person(
    first_name="Yıldırım",
    last_name="Ferhatoğulları",
    email="yildirim.ferhat.k3@example.com",
    phone="+44 7400 918273",
    phone_e164="+447400918273",
    birth_date="1983-07-19",
    medication="Zenobraxin şurubu",
    medication_word="Zenobraxin",
    language="tr",
)
PHOTO_NAME = "ferhatogullari-yanak.jpg"
NOTE = "Prefers Thursdays; her cousin Nilüferhan translates"
CALL = "Asked about Vermillionase peel prices"
REVIEW_NOTE = "Cleared: aspirin Obeliskadine dose is low"
STAFF_WORDS = ["Nilüferhan", NOTE, "Vermillionase", CALL, "Obeliskadine", REVIEW_NOTE]


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


@pytest.fixture
def published_tasks() -> Iterator[list[dict[str, Any]]]:
    """Each task message this process hands the broker: its body and headers."""
    sent: list[dict[str, Any]] = []

    def record(body: Any = None, headers: Any = None, **_: Any) -> None:
        sent.append({"body": body, "headers": dict(headers or {})})

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


def _photo() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = PHOTO_NAME
    return buffer


def _text(message: Message) -> str:
    """The message's plain-text part, decoded."""
    parts = [
        part.get_payload(decode=True)
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    ]
    return "".join(part.decode() for part in parts if isinstance(part, bytes))


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _settle(timeout: float = SETTLE_SECONDS) -> None:
    """Wait until no email, webhook or calendar change is still to go out."""
    active = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
    deadline = time.monotonic() + timeout
    while True:
        waiting = {
            model.__name__: list(
                model.objects.filter(
                    status__in=active, next_attempt_at__lte=timezone.now()
                ).values_list("pk", flat=True)
            )
            for model in (*OUTBOXES, ResumeEmail)
        }
        if not any(waiting.values()):
            return
        assert time.monotonic() < deadline, f"still to go out: {waiting}"
        time.sleep(0.1)


def _wait_for_worker_quiet(worker: WorkerProcess, task_ids: list[str]) -> None:
    """Until each task sent to the worker has finished and its output stopped."""
    deadline = time.monotonic() + SETTLE_SECONDS
    missing = task_ids
    while missing:
        log = worker.log()
        missing = [task for task in task_ids if f"[{task}] succeeded" not in log]
        assert time.monotonic() < deadline, (
            f"tasks not finished: {missing}\n{worker.log_summary()}"
        )
        time.sleep(0.1)
    size = -1
    while size != len(worker.log()) and time.monotonic() < deadline:
        size = len(worker.log())
        time.sleep(0.5)


def _send_due_now(worker: WorkerProcess, moment: dt.datetime) -> str:
    """Make the timed follow-ups due at `moment` and have the worker send them now,
    as beat's two periodic tasks would then: both in the worker, so the messages
    are handed out by the worker's sweep, not published from here (which a fast
    worker would send before its sweep ran, leaving the sweep nothing to enqueue)."""
    with mock.patch.object(followups.services, "enqueue_batches_on_commit"):
        followup_schedule_due(now=moment)
    FollowUpMessage.objects.filter(status=DeliveryStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return worker.send_task(SWEEP)


def test_no_name_contact_detail_answer_or_note_reaches_the_logs_or_the_broker(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    published: QuestionnaireVersion,
    location: Location,
    radicale: RadicaleServer,
    published_tasks: list[dict[str, Any]],
) -> None:
    # Given a coordinator whom new leads go to, a physician, a CRM, and Dr. Demir,
    # whose CalDAV calendar gets the bookings
    smtp_server.clear()
    worker_log_start = len(celery_worker.log())
    coordinator = staff(
        locations=[location], username="deniz", email="deniz@clinic.example"
    )
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])
    AssignmentRule.objects.create(name="Everyone here", location=location)
    doctor = practitioner_make(
        location, languages=("en", "tr"), weekdays=tuple(range(7))
    )
    appointment_make(doctor)
    calendar = PractitionerCalendar(
        practitioner=doctor, kind=PractitionerCalendar.Kind.CALDAV
    )
    calendar.caldav_url = radicale.calendar_url()
    calendar.caldav_username = USER
    calendar.caldav_password = PASSWORD
    calendar.save()
    monitor = BrokerMonitor(settings.CELERY_BROKER_URL)

    with (
        recording_logs() as web_log,
        monitor.running(),
        running_webhook_receiver(secret=SECRET) as crm,
    ):
        WebhookEndpoint.objects.create(
            name="CRM", url=crm.url, secret=SECRET, event_types=["lead.created"]
        )

        # When one person sends the questionnaire through the API, a typo first,
        api = APIClient()
        typo = api.post(
            "/api/v1/submissions",
            {"answers": API_PERSON.answers(email=API_PERSON.email[: -len(".com")])},
            format="json",
        )
        assert typo.status_code == 400, typo.json()
        response = api.post(
            "/api/v1/submissions",
            {
                "answers": API_PERSON.answers(
                    allergies=["other"],
                    allergy_details=ALLERGY,
                    blood_thinners=["aspirin"],
                )
            },
            format="json",
        )
        assert response.status_code == 201, response.json()
        api_request_id = response["X-Request-ID"]
        smtp_server.wait_for(to="deniz@clinic.example")
        smtp_server.wait_for(to=API_PERSON.email)
        first = Lead.objects.get(email=API_PERSON.email)

        # and another through the form: saved for later, resumed from the emailed
        # link on another device, and sent with a photo
        answers, form = FORM_PERSON.answers(), f"/{FORM_PERSON.language}/consultation"
        first_device = Client()
        start(first_device, FORM_PERSON.language)
        assert (
            first_device.post(f"{form}/step/1/", step_data(1, answers)).status_code
            == 302
        )
        saved = first_device.post(f"{form}/step/2/", save_data(FORM_PERSON.email))
        assert saved.status_code in (200, 302), saved.content.decode()[:3000]
        resume = re.search(
            r"https?://\S+/resume/\S+/",
            _text(smtp_server.wait_for(to=FORM_PERSON.email)),
        )
        assert resume is not None
        other_device = Client()
        assert other_device.get(urlsplit(resume[0]).path).status_code == 302
        for number in range(2, len(STEPS)):
            step = other_device.post(
                f"{form}/step/{number}/", step_data(number, answers)
            )
            assert step.status_code == 302, step.content.decode()[:3000]
        sent = other_device.post(
            f"{form}/step/{len(STEPS)}/",
            {**step_data(len(STEPS), answers), "photos": [_photo()]},
        )
        assert sent.status_code == 302, sent.content.decode()[:3000]
        second = Lead.objects.get(email=FORM_PERSON.email)
        _settle()

        # and the coordinator finds the first by phone and by name, notes, calls,
        # and sends the second one their link
        desk = _signed_in(coordinator)
        for search in (API_PERSON.phone, API_PERSON.last_name):
            found = desk.get("/staff/", {"q": search})
            assert API_PERSON.full_name in found.content.decode()
        for action, data in (
            ("note", {"text": NOTE}),
            ("call", {"outcome": "reached", "summary": CALL}),
        ):
            done = desk.post(f"/staff/leads/{first.code}/{action}", data)
            assert done.status_code == 302, done.content.decode()[:3000]
        assert desk.post(f"/staff/leads/{second.code}/link").status_code == 302

        # and the physician reads the answers and clears mesotherapy
        review = _signed_in(physician)
        health = review.get(f"/staff/leads/{first.code}/health", headers=HTMX)
        assert health.status_code == 200
        assert ALLERGY_WORD in health.content.decode()  # the answers were read
        assert review.get(f"/staff/review/{first.code}/").status_code == 200
        decided = review.post(
            f"/staff/review/{first.code}/decide",
            {"treatment": "mesotherapy", "decision": "cleared", "note": REVIEW_NOTE},
        )
        assert decided.status_code == 302, decided.content.decode()[:3000]

        # and the first person books through their link, three days or more ahead
        now = timezone.now()
        link = booking_link_make(lead=first, now=now)
        page = urlsplit(booking_link_url(link, language="en")).path
        assert Client().get(page).status_code == 200
        (offered,) = booking_choices(
            lead=first, now=now, since=now + dt.timedelta(days=3)
        )
        booked = Client().post(page + "book/", {"time": offered.times[0].choice})
        assert booked.status_code == 302, booked.content.decode()[:3000]
        booking = Booking.objects.get(lead=first)
        _settle()

        # and the timed follow-ups come due, each sent by the worker
        sweeps = [
            _send_due_now(celery_worker, moment)
            for moment in (
                now + dt.timedelta(minutes=61),
                now + dt.timedelta(days=1, minutes=1),
                booking.starts_at - dt.timedelta(days=2) + dt.timedelta(minutes=1),
                booking.starts_at - dt.timedelta(days=1) + dt.timedelta(minutes=1),
            )
        ]
        _settle()
        task_ids = [str(task["headers"]["id"]) for task in published_tasks]
        _wait_for_worker_quiet(celery_worker, [*task_ids, *sweeps])
        assert crm.received()

    # Then all of that happened,
    sent_keys = set(
        FollowUpMessage.objects.filter(status=DeliveryStatus.SENT).values_list(
            "step__template_key", flat=True
        )
    )
    assert {"acknowledgment", "cleared", "booking_link", "booking_made"} <= sent_keys
    assert {"nudge", "visit_preparation", "visit_reminder"} & sent_keys, sent_keys
    assert CalendarSync.objects.get().status == DeliveryStatus.SENT
    assert len(radicale.events()) == 1
    assert StaffNotification.objects.filter(status=DeliveryStatus.SENT).exists()
    # with log lines on both sides, the worker's under the request that caused them,
    worker_lines = lines_of(celery_worker.log()[worker_log_start:])
    assert any(api_request_id in line for line in web_log.lines)
    assert any(api_request_id in line for line in worker_lines), (
        celery_worker.log_summary()
    )
    assert any(f"[{task_ids[0]}] succeeded" in line for line in worker_lines)
    # and task messages from both: the worker enqueues the due follow-ups itself.
    assert published_tasks
    enqueued = {
        task
        for command in monitor.commands
        if command.startswith("LPUSH")
        for task in TASK_ID.findall(command)
    }
    assert enqueued - set(task_ids), "MONITOR saw no task the worker enqueued"
    # and none of the people's details, answers or the staff's words in any of it.
    sources = {
        "web process's log": web_log.lines,
        "worker's output": worker_lines,
        "task messages published": [as_text(task) for task in published_tasks],
        "broker's commands": monitor.texts(),
    }
    secrets = [
        *API_PERSON.values(),
        *FORM_PERSON.values(),
        ALLERGY,
        ALLERGY_WORD,
        PHOTO_NAME,
        PHOTO_NAME.removesuffix(".jpg"),
        *STAFF_WORDS,
    ]
    leaks = leaks_find(secrets, sources)
    assert not leaks, "personal data reached the logs:\n" + "\n".join(
        str(leak) for leak in leaks[:10]
    )

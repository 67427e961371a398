"""Booking, moving and cancelling in headless Chromium, on a phone, end to end.

A person fills the questionnaire through the real form, books one of the times the
last page offers, gets the confirmation from the worker through a real SMTP server
with an `appointment.ics`, follows the email's link, moves the appointment, and
cancels it. Every time shown is the clinic's local time (Istanbul, UTC+3).
"""

import datetime as dt
import re
import time
from collections.abc import Iterator
from email.message import Message
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from booking.models import Booking
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from leads.models import Lead
from tests.integration.browser_support import (
    PageWatch,
    fits_the_screen,
    shoot,
    watch_on_a_phone,
)
from tests.integration.test_intake_browser import (
    answer_step,
    expect_step,
    press_next,
)
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import LocationFactory
from tests.support.form_steps import STEPS
from tests.support.smtp import SmtpServer, subject_of
from tests.support.waiting import wait_for_status
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ZONE = "Europe/Istanbul"
EMAIL = "ayse.yilmaz@example.com"
DOCTOR = "Dr. Demir"


def working_day() -> dt.date:
    """A weekday two to four days ahead at the clinic: inside the week the last page
    offers, and never a day whose times run out while the test runs."""
    day = timezone.now().astimezone(ZoneInfo(ZONE)).date() + dt.timedelta(days=2)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def clinic(transactional_db: None) -> dt.date:
    """The shipped questionnaire, and Dr. Demir doing mesotherapy one day this week
    at the clinic the person chooses; the day she works."""
    location = LocationFactory.create(
        slug="nisantasi",
        name="Nişantaşı Clinic",
        address="Abdi İpekçi Caddesi 1, İstanbul",
        phone="+90 212 000 00 00",
        time_zone=ZONE,
    )
    call_command("load_intake_definitions", verbosity=0)
    day = working_day()
    doctor = practitioner_make(
        location, name=DOCTOR, languages=("en", "tr"), weekdays=(day.weekday(),)
    )
    appointment_make(doctor)
    return day


@pytest.fixture(autouse=True)
def _no_minimum_time_and_fresh_rate_limits(settings: Settings) -> Iterator[None]:
    # The live server runs in this process, so it sees these settings and this cache.
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(live_server: LiveServer, settings: Settings) -> str:
    """The live server's address, as SITE_URL: the last page's booking form posts to
    the absolute link built from it, as it does on the real site. (The worker, in
    its own process, keeps its SITE_URL: the email's link is followed by its path.)
    """
    settings.SITE_URL = live_server.url
    return str(live_server.url)


def person_answers() -> dict[str, Any]:
    """Every question, low risk (mesotherapy is open to book), in English."""
    answers = complete_answers(preferred_language="en")
    del answers["consent_health"]  # given on the start page, not asked again
    return answers


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(ZoneInfo(ZONE))


def long_date(moment: dt.datetime) -> str:
    """As the booking pages and the emails write it: 'Saturday 5 December 2026'."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def short_label(moment: dt.datetime) -> str:
    """As the last page writes a time: 'Sat 5 Dec, 10:00'."""
    return f"{moment:%a} {moment.day} {moment:%b}, {moment:%H:%M}"


def subject(message: Message) -> str:
    """The subject unfolded (RFC 5322 2.2.3): a long one arrives on two lines."""
    return re.sub(r"\r?\n(?=[ \t])", "", subject_of(message))


def email_with_subject(smtp: SmtpServer, wanted: str, timeout: float = 30) -> Message:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.messages():
            if message["To"] == EMAIL and subject(message) == wanted:
                return message
        time.sleep(0.1)
    seen = [subject(message) for message in smtp.messages()]
    raise AssertionError(f"no email {wanted!r} arrived in time; came: {seen}")


def text_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def invitation_of(message: Message) -> icalendar.Calendar:
    """The attached appointment.ics, parsed."""
    (part,) = [p for p in message.walk() if p.get_filename() == "appointment.ics"]
    assert part.get_content_type() == "text/calendar"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def assert_invitation(
    message: Message, booking: Booking, *, method: str, sequence: int
) -> None:
    calendar = invitation_of(message)
    assert calendar["METHOD"] == method
    (event,) = calendar.walk("VEVENT")
    # The same event in every copy: made from the booking's code.
    assert re.fullmatch(rf"booking-{booking.code}@[\w.-]+", str(event["UID"]))
    assert event["SEQUENCE"] == sequence
    assert event["DTSTART"].params["TZID"] == ZONE
    starts = event.decoded("DTSTART")
    assert starts == booking.starts_at
    assert starts.utcoffset() == dt.timedelta(hours=3)
    wall_clock = local(booking.starts_at).strftime("%Y%m%dT%H%M%S")
    assert event["DTSTART"].to_ical() == wall_clock.encode()
    assert [str(zone["TZID"]) for zone in calendar.walk("VTIMEZONE")] == [ZONE]


def clinic_subject(change: str, moment: dt.datetime) -> str:
    when = f"{long_date(moment)}, {moment:%H:%M}"
    clinic = settings.CLINIC_NAME
    return {
        "created": f"Your appointment at {clinic} on {when}",
        "rescheduled": f"Your appointment at {clinic} is now on {when}",
        "cancelled": f"Your appointment at {clinic} on {when} is cancelled",
    }[change]


def fill_the_questionnaire(page: Page, base: str) -> None:
    answers = person_answers()
    answered: set[str] = set()
    page.goto(f"{base}/en/consultation/")
    page.locator("#id_consent_health").check()
    page.locator("form.step-form button[type=submit]").click()
    for number in range(1, len(STEPS) + 1):
        expect_step(page, base, "en", number)
        answered |= answer_step(page, answers)
        assert press_next(page).status == 302
    assert answered == set(answers), "some answers were never asked for"


def test_a_patient_books_moves_and_cancels_on_a_phone(
    page: Page,
    site: str,
    clinic: dt.date,
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
) -> None:
    smtp_server.clear()
    base = site
    watch: PageWatch = watch_on_a_phone(page, base)
    fill_the_questionnaire(page, base)

    # The last page: nothing stands in the way, and here are the first free times.
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/en/consultation/done/"))
    offer = page.locator("section.next-book")
    expect(offer.get_by_role("heading", name="Choose your time")).to_be_visible()
    expect(offer).to_contain_text("Mesotherapy session")
    expect(offer).to_contain_text("45 minutes")
    expect(page.locator(".intake.done")).to_contain_text(
        "Times are local times at Nişantaşı Clinic."
    )
    times = offer.locator("label.slot")
    expect(times.first).to_be_visible()
    labels = [label.strip() for label in times.all_inner_texts()]
    assert 0 < len(labels) <= 6
    first_day = f"{clinic:%a} {clinic.day} {clinic:%b}, "
    assert all(label.startswith(first_day) for label in labels), labels
    assert fits_the_screen(page)
    shoot(page, "booking-1-last-page-times")

    # The person books the first time.
    times.first.click()
    expect(times.first.locator("input")).to_be_checked()
    offer.get_by_role("button", name="Book this time").click()
    expect(page).to_have_url(re.compile(r"/en/book/[^/]+/\?booked=[0-9a-f-]{36}$"))
    booking = Booking.objects.select_related("lead", "location").get()
    booked_at = local(booking.starts_at)
    # What they picked is what was booked, in the clinic's time and not UTC.
    assert labels[0] == short_label(booked_at)
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.lead.status == Lead.Status.BOOKED

    # Their booking page says so.
    expect(page.locator("ul.messages")).to_have_text(
        "Your appointment is booked. We have sent you an email with the details."
    )
    item = page.locator("li.booking-item.booking-new")
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Mesotherapy session")
    expect(item).to_contain_text(f"{long_date(booked_at)}, {booked_at:%H:%M}")
    expect(item).not_to_contain_text(f"{booking.starts_at:%H:%M}")  # UTC
    expect(item).to_contain_text(f"Nişantaşı Clinic, {booking.location.address}")
    expect(item).to_contain_text(DOCTOR)
    expect(item.get_by_role("link", name="Change the time")).to_be_visible()
    expect(item.get_by_role("link", name="Cancel")).to_be_visible()
    assert fits_the_screen(page)
    shoot(page, "booking-2-booked")

    # The confirmation comes from the worker through the SMTP server, with the event.
    confirmed = email_with_subject(smtp_server, clinic_subject("created", booked_at))
    assert_invitation(confirmed, booking, method="REQUEST", sequence=0)
    body = text_of(confirmed)
    assert "Your appointment is booked:" in body
    assert f"{long_date(booked_at)}, {booked_at:%H:%M}" in body
    assert f"with {DOCTOR}" in body
    link = re.search(r"https?://\S+/en/book/\S+/", body)
    assert link is not None, body
    wait_for_status(
        FollowUpMessage.objects.get(
            booking=booking, occurrence=f"booking:{booking.pk}:0"
        ),
        DeliveryStatus.SENT,
    )

    # The link in the email opens the booking page, where the person moves it.
    page.goto(base + urlsplit(link.group(0)).path)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    item = page.locator("li.booking-item")
    expect(item).to_contain_text(f"{long_date(booked_at)}, {booked_at:%H:%M}")
    item.get_by_role("link", name="Change the time").click()
    expect(page).to_have_url(re.compile(rf"\?move={booking.code}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new time")
    expect(page.locator("p.lead")).to_contain_text(
        f"Your appointment is now on {booked_at:%A} {booked_at.day} {booked_at:%B}"
        f" at {booked_at:%H:%M}."
    )
    expect(page.locator("li.booking-item")).to_have_count(0)
    choices = page.locator("section.slot-choice")
    expect(choices).to_have_count(1)
    expect(choices).to_contain_text("Mesotherapy session")
    day = choices.locator("details.slot-day").first
    expect(day.locator("summary span").first).to_have_text(
        f"{clinic:%A} {clinic.day} {clinic:%B}"
    )
    other = day.locator("label.slot").filter(
        has_not_text=re.compile(rf"^\s*{booked_at:%H:%M}\b")
    )
    expect(other.first).to_be_visible()
    new_time = other.first.locator("span").first.inner_text().strip()
    assert new_time != f"{booked_at:%H:%M}"
    expect(page.get_by_role("link", name="Keep my time")).to_be_visible()
    assert fits_the_screen(page)
    shoot(page, "booking-3-move")
    other.first.click()
    page.get_by_role("button", name="Move to this time").click()

    # Moved: the page shows the new time, and a second email says so (SEQUENCE 1).
    expect(page.locator("ul.messages")).to_have_text(
        "Your appointment is moved. We have sent you an email with the new time."
    )
    booking.refresh_from_db()
    moved_at = local(booking.starts_at)
    assert (moved_at.date(), f"{moved_at:%H:%M}") == (clinic, new_time)
    assert booking.sequence == 1
    item = page.locator("li.booking-item")
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"{long_date(moved_at)}, {new_time}")
    expect(item).not_to_contain_text(f"{booked_at:%H:%M}")
    moved = email_with_subject(smtp_server, clinic_subject("rescheduled", moved_at))
    assert_invitation(moved, booking, method="REQUEST", sequence=1)
    assert "Your appointment has moved. The new time:" in text_of(moved)

    # Cancel, confirm, and it is cancelled.
    item.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/{booking.code}/cancel/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Cancel your appointment?"
    )
    card = page.locator("section.card")
    expect(card).to_contain_text("Mesotherapy session")
    expect(card).to_contain_text(f"{long_date(moved_at)}, {new_time}")
    expect(card).to_contain_text("Nişantaşı Clinic")
    expect(card.get_by_role("link", name="Keep it")).to_be_visible()
    assert fits_the_screen(page)
    shoot(page, "booking-4-cancel")
    card.get_by_role("button", name="Yes, cancel it").click()

    expect(page.locator("ul.messages")).to_have_text("Your appointment is cancelled.")
    expect(page.locator("li.booking-item")).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose your time")
    assert fits_the_screen(page)
    shoot(page, "booking-5-cancelled")
    booking.refresh_from_db()
    booking.lead.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert booking.cancelled_at is not None
    assert booking.lead.status == Lead.Status.QUALIFIED
    cancelled = email_with_subject(smtp_server, clinic_subject("cancelled", moved_at))
    assert_invitation(cancelled, booking, method="CANCEL", sequence=2)
    watch.assert_clean()

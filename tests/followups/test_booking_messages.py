"""The patient's email about their booking, a follow-up step now: in their
language, with an .ics that calendar apps import, the link to change it, and
nothing of their health; a session attended brings aftercare and, mid-course,
the next session's reminder."""

import datetime as dt
import re
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.core import mail
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import override_settings

from booking.models import AppointmentType, Booking
from booking.services import booking_cancel, booking_create
from core.models import DeliveryStatus
from followups.models import FollowUpMessage, Suppression
from followups.services import (
    BOOKING_TRIGGERS,
    followup_message_send,
    suppression_set,
)
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.factories import LocationFactory
from tests.support.submitting import lead_of, submit

MONDAY_10 = next_monday_at(10)


def _book(lead: Lead, kind: AppointmentType) -> Booking:
    return booking_create(
        lead=lead,
        appointment_type=kind,
        practitioner=kind.practitioners.get(),
        location=lead.location,
        starts_at=MONDAY_10,
    )


def _booking_messages() -> QuerySet[FollowUpMessage]:
    return FollowUpMessage.objects.filter(step__sequence__trigger__in=BOOKING_TRIGGERS)


def _send_all() -> None:
    for message_id in _booking_messages().values_list("pk", flat=True):
        followup_message_send(message_id=message_id)


def _calendar(message: mail.EmailMessage) -> icalendar.Calendar:
    ((name, content, kind),) = message.attachments
    assert name == "appointment.ics"
    assert kind.startswith("text/calendar")
    return icalendar.Calendar.from_ical(content)


@override_settings(DEFAULT_FROM_EMAIL="Clinic <hello@clinic.example>")
def test_the_confirmation_carries_an_ics_with_uid_stamp_and_local_start(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    booking = _book(lead, session)

    _send_all()

    (message,) = mail.outbox
    assert message.to == [lead.email]
    calendar = _calendar(message)
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert str(event["uid"]) == f"booking-{booking.code}@{settings.CALENDAR_UID_DOMAIN}"
    assert event.get("dtstamp") is not None
    start = event.decoded("dtstart")
    assert start == MONDAY_10
    assert str(start.tzinfo) == "Europe/Istanbul"
    assert event["dtstart"].params["TZID"] == "Europe/Istanbul"
    assert calendar.walk("VTIMEZONE"), "the zone travels with the event"
    assert "hello@clinic.example" in str(event["organizer"])


def test_the_email_is_in_the_persons_language_with_their_link_and_no_health(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))  # prefers Turkish
    _book(lead, session)

    _send_all()

    (message,) = mail.outbox
    assert "Mezoterapi seansı" in message.body
    assert "Mezoterapi" not in message.subject  # no treatment in the subject
    assert "10:00" in message.subject  # the clinic's time, not UTC
    link = re.search(r"https?://\S+/book/\S+/", str(message.body))
    assert link is not None
    assert client.get(urlsplit(link.group()).path).status_code == 200
    assert "aspirin" not in message.body.lower()


def test_each_change_gets_one_email_and_a_cancellation_cancels_the_event(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    booking = _book(lead, session)
    _send_all()
    booking_cancel(booking=booking)

    _send_all()
    _send_all()  # a second sweep sends nothing again

    assert len(mail.outbox) == 2
    cancelled = _calendar(mail.outbox[1])
    assert str(cancelled["method"]) == "CANCEL"
    (event,) = cancelled.walk("VEVENT")
    assert str(event["status"]) == "CANCELLED"
    assert event["sequence"] == 1


def test_no_email_address_fails_the_row_without_retrying(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    Lead.objects.filter(pk=lead.pk).update(email="")
    lead.refresh_from_db()
    _book(lead, session)

    _send_all()

    assert mail.outbox == []
    assert _booking_messages().get().status == "failed"


def test_the_booking_moved_in_berlin_is_told_in_berlin_time(
    published: QuestionnaireVersion,
) -> None:
    berlin = LocationFactory.create(slug="berlin", time_zone="Europe/Berlin")
    doctor = practitioner_make(berlin, languages=("tr",))
    kind = appointment_make(doctor)
    lead = lead_of(submit(published))
    starts = next_monday_at(11, "Europe/Berlin")
    booking_create(
        lead=lead, appointment_type=kind, practitioner=doctor, location=berlin,
        starts_at=starts,
    )  # fmt: skip

    _send_all()

    (message,) = mail.outbox
    assert "11:00" in message.subject
    (event,) = _calendar(message).walk("VEVENT")
    assert event.decoded("dtstart") == starts
    assert str(event.decoded("dtstart").tzinfo) == "Europe/Berlin"
    assert starts.astimezone(dt.UTC).hour in (9, 10)  # CET/CEST: not 11 UTC


def test_a_change_overtaken_before_it_went_is_skipped_for_the_latest(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    booking = _book(lead, session)
    booking_cancel(booking=booking)  # before the confirmation went

    _send_all()

    (message,) = mail.outbox  # only what is true now: it is cancelled
    assert str(_calendar(message)["method"]) == "CANCEL"
    made = _booking_messages().get(step__template_key="booking_made")
    assert made.status == DeliveryStatus.SKIPPED
    assert made.last_error == "overtaken by a later change to the booking"


def test_a_confirmation_goes_to_an_address_that_unsubscribed_but_not_one_that_bounces(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    suppression_set(email_key=lead.email_key, scope=Suppression.Scope.ALL)
    _book(lead, session)

    _send_all()

    assert len(mail.outbox) == 1  # they booked: they asked for it
    Suppression.objects.update(reason=Suppression.Reason.BOUNCED)
    booking_cancel(booking=Booking.objects.get())
    _send_all()
    assert len(mail.outbox) == 1

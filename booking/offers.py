"""What the patient is offered to book, in their words and their clinic's time.

The booking options (booking.selectors.booking_option_list) merged per appointment
type, one choice per free start (the routed practitioners in order), grouped by the
location's local day; and the answer to intake's question of what to offer on the
spot (intake.hooks.booking_offer).
"""

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.utils import formats, timezone, translation

from booking.links import booking_link_make, booking_link_url
from booking.models import AppointmentType, Booking
from booking.selectors import (
    BookingGate,
    BookingOption,
    Routing,
    booking_option_list,
)
from clinics.models import Location, Practitioner
from core.zones import clinic_zone
from intake.hooks import (
    BookingOffer,
    BookingOfferAsked,
    OfferedAppointment,
    OfferedTime,
)
from leads.models import Lead
from leads.selectors import lead_for_submission

# How many first times the done page and the API's answer offer per appointment.
FIRST_TIMES = 6


@dataclass(frozen=True)
class TimeChoice:
    starts_at: dt.datetime  # UTC
    local: dt.datetime  # at the location
    practitioner: Practitioner
    location: Location
    choice: str  # what the booking form sends back (choice_read)


@dataclass(frozen=True)
class AppointmentChoices:
    appointment_type: AppointmentType
    routing: Routing
    times: list[TimeChoice]

    def practitioners(self) -> list[Practitioner]:
        """Who the times are with, in routed order."""
        return list({t.practitioner.pk: t.practitioner for t in self.times}.values())

    def days(self) -> list[tuple[dt.date, list[TimeChoice]]]:
        """The times grouped by local day, in order."""
        grouped: dict[dt.date, list[TimeChoice]] = {}
        for time in self.times:
            grouped.setdefault(time.local.date(), []).append(time)
        return list(grouped.items())


def booking_choices(
    *,
    lead: Lead,
    now: dt.datetime,
    since: dt.datetime | None = None,
    days: int = 7,
    moving: Booking | None = None,
    gate: BookingGate | None = None,
) -> list[AppointmentChoices]:
    """Per appointment type the lead may book, every free start in the `days` days
    from `since` (or now), each with the first routed practitioner free then; with
    `moving`, the times that booking may move to."""
    by_type: dict[int, list[BookingOption]] = {}
    for option in booking_option_list(
        lead=lead,
        now=now,
        days=days,
        first=10_000,
        since=since,
        moving=moving,
        gate=gate,
    ):
        by_type.setdefault(option.appointment_type.pk, []).append(option)
    choices = []
    for options in by_type.values():
        first_free: dict[dt.datetime, TimeChoice] = {}
        for option in options:  # routed order: the person's language first
            zone = clinic_zone(option.location.time_zone)
            for slot in option.slots:
                first_free.setdefault(
                    slot.start,
                    TimeChoice(
                        starts_at=slot.start,
                        local=slot.start.astimezone(zone),
                        practitioner=option.practitioner,
                        location=option.location,
                        choice=choice_make(option, slot.start),
                    ),
                )
        choices.append(
            AppointmentChoices(
                appointment_type=options[0].appointment_type,
                routing=options[0].routing,
                times=[first_free[start] for start in sorted(first_free)],
            )
        )
    return choices


@dataclass(frozen=True)
class NotOffered:
    """An appointment for a treatment the person asked about, with no time shown:
    `opens_on` a later day it may be booked from, `later` when only these days
    are full; neither: a coordinator arranges it (the reason is not said here)."""

    name: str
    opens_on: dt.date | None
    full: bool


def appointments_not_offered(
    *,
    gate: BookingGate,
    shown: Collection[AppointmentType],
    last_day: dt.date,
    language: str,
) -> list[NotOffered]:
    """The active appointment types for the wanted treatments (`gate`: the lead's
    booking_gate) that the page does not show (`shown`) for the days up to
    `last_day`, and why, in words that never diagnose."""
    shown_ids = {kind.pk for kind in shown}
    found = []
    for kind in AppointmentType.objects.filter(
        is_active=True, treatment__in=list(gate.treatments)
    ).order_by("treatment", "pk"):
        if kind.pk in shown_ids:
            continue
        opens = gate.opens_on(kind)
        found.append(
            NotOffered(
                name=kind.name(language),
                opens_on=opens if opens and opens > last_day else None,
                full=opens is not None and opens <= last_day,
            )
        )
    return found


@dataclass(frozen=True)
class Choice:
    appointment_type: uuid.UUID
    practitioner: uuid.UUID
    location_id: int
    starts_at: dt.datetime


def choice_make(option: BookingOption, starts_at: dt.datetime) -> str:
    return ".".join(
        [
            option.appointment_type.code.hex,
            option.practitioner.code.hex,
            str(option.location.pk),
            str(int(starts_at.timestamp())),
        ]
    )


def choice_read(value: str) -> Choice | None:
    """The choice a booking form sent, or None when it is not one."""
    parts = value.split(".")
    if len(parts) != 4:
        return None
    try:
        return Choice(
            appointment_type=uuid.UUID(hex=parts[0]),
            practitioner=uuid.UUID(hex=parts[1]),
            location_id=int(parts[2]),
            starts_at=dt.datetime.fromtimestamp(int(parts[3]), tz=dt.UTC),
        )
    except (ValueError, OverflowError, OSError):
        return None


def time_label(local: dt.datetime) -> str:
    """'Mon 7 Dec, 10:00' in the active language."""
    return f"{formats.date_format(local, 'D j M')}, {formats.time_format(local, 'H:i')}"


def booking_offer_answer(asked: BookingOfferAsked) -> BookingOffer | None:
    """intake.hooks.booking_offer's answer: the first free times of what the person
    who sent the submission may book now, and their signed link; None when they may
    book nothing now (a coordinator or physician comes first)."""
    lead = lead_for_submission(submission_id=asked.submission_id)
    if lead is None or lead.location is None:
        return None
    now = timezone.now()
    choices = booking_choices(lead=lead, now=now)
    if not choices:
        return None
    link = booking_link_make(lead=lead, now=now)
    with translation.override(asked.language):
        appointments = tuple(
            OfferedAppointment(
                treatment=choice.appointment_type.treatment,
                name=choice.appointment_type.name(asked.language),
                duration_minutes=choice.appointment_type.duration_minutes,
                times=tuple(
                    OfferedTime(
                        starts_at=time.starts_at,
                        text=time_label(time.local),
                        choice=time.choice,
                    )
                    for time in choice.times[:FIRST_TIMES]
                ),
            )
            for choice in choices
        )
    url = booking_link_url(link, language=asked.language)
    return BookingOffer(
        url=url,
        path=urlsplit(url).path,
        expires_at=link.expires_at,
        time_zone=lead.location.time_zone,
        location_name=lead.location.name_in(asked.language),
        appointments=appointments,
    )

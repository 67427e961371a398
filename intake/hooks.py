"""What intake announces to the apps above it, and the digests it hands them.

Intake imports no app above it: it announces, inside the transaction that stores the
change, and `leads` (subscribed in LeadsConfig.ready) acts in that same transaction.
A digest holds no health answers: the wanted treatments and their effective outcomes,
how complete the answers are, which triggers apply, and the three option codes the
lead score weighs. Whoever needs the answers themselves reads them through intake's
audited health read.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clinics.models import Location
from core.hooks import Hook, Provider
from intake.questionnaires.definition import (
    CONTACT_LINK_IDS,
    Definition,
    item_is_enabled,
)
from intake.screening.profiles import trigger_profile
from intake.screening.results import (
    Outcome,
    bookable_from_effective,
    outcomes_effective,
)

NOT_SURE = "not_sure"


@dataclass(frozen=True)
class SubmissionRecorded:
    """A new submission: who wrote, where, what they asked for, what screening said."""

    submission_id: int
    submission_code: uuid.UUID
    location: Location
    full_name: str
    email: str
    phone: str
    preferred_language: str
    birth_date: dt.date | None
    # Wanted treatment -> effective outcome; one the rules said nothing about (or no
    # published rules at all) needs review: nothing is bookable unseen.
    outcomes: Mapping[str, str]
    not_sure: bool  # also ticked "not sure which treatment"
    completeness: float  # share (0-1) of the health questions shown that were answered
    active_triggers: tuple[str, ...]
    severity: str | None
    concern_duration: str | None
    treatment_timing: str | None
    # Deferred wanted treatment -> the day it may be booked from: its deferral ends
    # then with nothing else in the way. A deferred treatment without one waits for
    # a person to look again.
    bookable_from: Mapping[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class ScreeningChanged:
    """A submission's effective outcomes changed (a physician decided, or the answers
    were evaluated again): every screened treatment -> its outcome now."""

    submission_id: int
    outcomes: Mapping[str, str]
    # Deferred treatment -> the day it may be booked from (see SubmissionRecorded).
    bookable_from: Mapping[str, dt.date] = field(default_factory=dict)


@dataclass(frozen=True)
class BookingOfferAsked:
    """The person who just sent submission `submission_id` sees what they may book."""

    submission_id: int
    language: str


@dataclass(frozen=True)
class OfferedTime:
    starts_at: dt.datetime
    text: str  # the local day and time, in the person's language
    choice: str  # what the booking page takes to book this time


@dataclass(frozen=True)
class OfferedAppointment:
    treatment: str
    name: str  # the appointment's name, in the person's language
    duration_minutes: int
    times: tuple[OfferedTime, ...]  # the first free ones


@dataclass(frozen=True)
class BookingOffer:
    """What the person may book now, and the signed link to the booking page."""

    url: str
    path: str  # the url without the site: what the site's own pages link to
    expires_at: dt.datetime
    time_zone: str
    location_name: str
    appointments: tuple[OfferedAppointment, ...]


submission_recorded: Hook[SubmissionRecorded] = Hook("intake.submission_recorded")
screening_changed: Hook[ScreeningChanged] = Hook("intake.screening_changed")
# Answered by booking (BookingConfig.ready): the done page and the API's answer to a
# submission offer the first free times on the spot.
booking_offer: Provider[BookingOfferAsked, BookingOffer] = Provider(
    "intake.booking_offer"
)


def submission_recorded_digest(
    *,
    submission_id: int,
    submission_code: uuid.UUID,
    location: Location,
    contact: Mapping[str, Any],
    health: Mapping[str, Any],
    definition: Definition,
    outcomes: Mapping[str, str] | None,
    physician_decides: list[str],
    bookable_from: Mapping[str, str],
) -> SubmissionRecorded:
    """The digest of a submission just stored, from what the caller has in hand.

    `outcomes` is the stored screening result's (None without published rules),
    `physician_decides` its refusals a physician decides on and `bookable_from`
    its deferrals' end dates.
    """
    effective = (
        outcomes_effective(outcomes, physician_decides=physician_decides)
        if outcomes is not None
        else {}
    )
    wanted = [code for code in health.get("treatments_wanted", []) if code != NOT_SURE]
    return SubmissionRecorded(
        submission_id=submission_id,
        submission_code=submission_code,
        location=location,
        full_name=contact["full_name"],
        email=contact["email"],
        phone=contact["phone"],
        preferred_language=contact["preferred_language"],
        birth_date=(
            dt.date.fromisoformat(contact["birth_date"])
            if contact.get("birth_date")
            else None
        ),
        outcomes={code: effective.get(code, Outcome.REVIEW) for code in wanted},
        not_sure=NOT_SURE in health.get("treatments_wanted", []),
        completeness=_completeness(definition, health),
        active_triggers=trigger_profile(health).active,
        severity=_code(health.get("severity")),
        concern_duration=_code(health.get("concern_duration")),
        treatment_timing=_code(health.get("treatment_timing")),
        bookable_from={
            code: day
            for code, day in bookable_from_effective(
                bookable_from, effective=effective
            ).items()
            if code in wanted
        },
    )


def _completeness(definition: Definition, health: Mapping[str, Any]) -> float:
    shown = [
        item.link_id
        for item in definition.items()
        if item.is_question
        and item.link_id not in CONTACT_LINK_IDS
        and item_is_enabled(item, health)
    ]
    if not shown:
        return 1.0
    answered = [
        link_id for link_id in shown if health.get(link_id) not in (None, "", [])
    ]
    return len(answered) / len(shown)


def _code(answer: object) -> str | None:
    return answer if isinstance(answer, str) else None

"""Making a booking: only what screening allows, never two at once, on the lead."""

import datetime as dt
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from booking.links import booking_link_make, booking_link_url
from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    Holiday,
    WeeklyAvailability,
)
from booking.selectors import booking_option_list, practitioner_free_slots
from booking.services import NotBookable, SlotTaken, booking_create
from clinics.models import Location, Practitioner, StaffMember
from core.zones import clinic_zone
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent, WebhookDelivery, WebhookEndpoint
from leads.services.review import lead_review_decide
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.factories import StaffMemberFactory
from tests.support.staff_api import client_for
from tests.support.submitting import lead_of, submit
from tests.support.threads import in_threads

MONDAY_10 = next_monday_at(10)
_appointment = appointment_make


@pytest.fixture
def practitioner(location: Location) -> Practitioner:
    return practitioner_make(location)


def _book(
    lead: Lead,
    kind: AppointmentType,
    practitioner: Practitioner,
    starts_at: dt.datetime = MONDAY_10,
) -> Booking:
    return booking_create(
        lead=lead,
        appointment_type=kind,
        practitioner=practitioner,
        location=lead.location,
        starts_at=starts_at,
    )


def test_an_eligible_person_books_and_the_lead_says_so(
    published: QuestionnaireVersion, practitioner: Practitioner
) -> None:
    WebhookEndpoint.objects.create(
        name="CRM",
        url="https://crm.example/hook",
        secret="s" * 32,
        event_types=["booking.created", "lead.status_changed"],
    )
    lead = lead_of(submit(published))
    kind = _appointment(practitioner)

    booking = _book(lead, kind, practitioner)

    assert (booking.starts_at, booking.ends_at) == (
        MONDAY_10,
        MONDAY_10 + dt.timedelta(minutes=45),
    )
    assert (booking.blocked_from, booking.blocked_until) == (
        MONDAY_10 - dt.timedelta(minutes=10),
        MONDAY_10 + dt.timedelta(minutes=60),
    )
    lead.refresh_from_db()
    assert lead.status == Lead.Status.BOOKED  # straight from "new"
    event = lead.events.get(kind=LeadEvent.Kind.BOOKING)
    assert event.data["booking"] == str(booking.code)
    assert event.data["change"] == "created"
    sent = set(WebhookDelivery.objects.values_list("event_type", flat=True))
    assert sent == {"booking.created", "lead.status_changed"}


@pytest.mark.parametrize(
    ("answers", "outcome"),
    [
        ({"blood_thinners": ["aspirin"]}, "review"),
        ({"allergies": ["vitamin_k"]}, "contraindicated"),
    ],
)
def test_what_screening_does_not_allow_cannot_be_booked(
    published: QuestionnaireVersion,
    practitioner: Practitioner,
    answers: dict[str, list[str]],
    outcome: str,
) -> None:
    lead = lead_of(submit(published, **answers))
    assert lead.treatments.get(treatment="mesotherapy").outcome == outcome

    with pytest.raises(NotBookable):
        _book(lead, _appointment(practitioner), practitioner)

    assert not Booking.objects.exists()
    assert lead.events.filter(kind=LeadEvent.Kind.BOOKING).count() == 0


def test_a_reviewed_treatment_is_bookable_once_a_physician_cleared_it(
    published: QuestionnaireVersion, practitioner: Practitioner, location: Location
) -> None:
    physician: User = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    kind = _appointment(practitioner, requires_physician_clearance=True)
    with pytest.raises(NotBookable):
        _book(lead, kind, practitioner)

    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Aspirin only.",
        physician=physician,
    )

    assert _book(lead, kind, practitioner).status == Booking.Status.CONFIRMED


def test_an_appointment_that_needs_a_physician_waits_for_one_even_when_eligible(
    published: QuestionnaireVersion, practitioner: Practitioner
) -> None:
    lead = lead_of(submit(published))  # eligible for mesotherapy by the rules
    kind = _appointment(practitioner, requires_physician_clearance=True)

    with pytest.raises(NotBookable):
        _book(lead, kind, practitioner)


def test_a_time_that_overlaps_another_booking_with_its_buffers_is_taken(
    published: QuestionnaireVersion, practitioner: Practitioner
) -> None:
    kind = _appointment(practitioner)
    first = _book(lead_of(submit(published)), kind, practitioner)
    other = lead_of(submit(published, email="other@example.com", phone="+905551112233"))
    # Ends 10:45 plus 15 minutes after: 11:00; the next one's 10 minutes before it
    # must start after that: 11:15 fits, 11:00 does not.
    too_close = MONDAY_10 + dt.timedelta(minutes=60)
    just_fits = MONDAY_10 + dt.timedelta(minutes=75)

    with pytest.raises(SlotTaken):
        _book(other, kind, practitioner, too_close)
    second = _book(other, kind, practitioner, just_fits)

    assert second.blocked_from > first.blocked_until


def test_a_cancelled_booking_frees_its_time(
    published: QuestionnaireVersion, practitioner: Practitioner
) -> None:
    kind = _appointment(practitioner)
    first = _book(lead_of(submit(published)), kind, practitioner)
    Booking.objects.filter(pk=first.pk).update(status=Booking.Status.CANCELLED)
    other = lead_of(submit(published, email="other@example.com", phone="+905551112233"))

    assert _book(other, kind, practitioner).starts_at == MONDAY_10


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    # Every 15 minutes is offered; starts up to 45 minutes apart overlap (with
    # buffers a booking holds 70 minutes), so only one of them can be booked.
    "offsets",
    [[0] * 20, [15 * (n % 4) for n in range(20)]],
    ids=["same-slot", "overlapping"],
)
def test_twenty_people_booking_at_once_one_wins(
    published: QuestionnaireVersion, practitioner: Practitioner, offsets: list[int]
) -> None:
    kind = _appointment(practitioner)
    leads = [
        lead_of(
            submit(
                published,
                full_name=f"Person {n}",
                email=f"person{n}@example.com",
                phone=f"+9053200000{n:02d}",
            )
        )
        for n in range(len(offsets))
    ]

    errors = in_threads(
        *(
            (
                lambda lead=lead, minutes=minutes: _book(
                    lead, kind, practitioner, MONDAY_10 + dt.timedelta(minutes=minutes)
                )
            )
            for lead, minutes in zip(leads, offsets, strict=True)
        )
    )

    assert Booking.objects.count() == 1
    assert len(errors) == len(offsets) - 1
    assert all(isinstance(error, SlotTaken) for error in errors), errors
    # They took turns on the practitioner's lock: each loser was told by the
    # service's own check, at once, not by the exclusion constraint's deadlocks.
    assert all("starts_at" in getattr(error, "fields", {}) for error in errors), errors


def test_only_working_hours_are_offered_and_bookable(
    published: QuestionnaireVersion, practitioner: Practitioner
) -> None:
    lead = lead_of(submit(published))
    kind = _appointment(practitioner)
    evening = MONDAY_10 + dt.timedelta(hours=8)  # 18:00 in Istanbul: closed

    with pytest.raises(SlotTaken) as refused:
        _book(lead, kind, practitioner, evening)

    assert "starts_at" in refused.value.fields
    assert not Booking.objects.exists()


def test_the_free_times_leave_out_holidays_days_away_and_booked_time(
    published: QuestionnaireVersion,
    practitioner: Practitioner,
    location: Location,
    django_assert_num_queries: Any,
) -> None:
    kind = _appointment(practitioner)
    _book(lead_of(submit(published)), kind, practitioner)
    next_monday = MONDAY_10 + dt.timedelta(days=7)
    Holiday.objects.create(
        location=location, day=timezone.localdate(next_monday), name="Bayram"
    )
    AvailabilityException.objects.create(
        practitioner=practitioner,
        location=location,
        day=timezone.localdate(MONDAY_10 + dt.timedelta(days=14)),
    )

    with django_assert_num_queries(5):
        slots = practitioner_free_slots(
            practitioner=practitioner,
            location=location,
            appointment_type=kind,
            now=MONDAY_10 - dt.timedelta(days=1),
            until=MONDAY_10 + dt.timedelta(days=15),
        )

    days = {timezone.localdate(slot.start) for slot in slots}
    assert days == {timezone.localdate(MONDAY_10)}  # only the first Monday works
    starts = [timezone.localtime(slot.start).time() for slot in slots]
    # 10:00-10:45 is booked, 09:50-11:00 with its buffers; a new one holds 10
    # minutes before and 15 after too: 09:00 would run to 10:00, 11:00 start 10:50.
    assert starts[0] == dt.time(11, 15)
    assert starts[-1] == dt.time(17, 15)  # ends at 18:00
    assert len(starts) == len(set(starts)) == 25


@pytest.mark.django_db
def test_the_demo_clinic_offers_a_time_for_every_treatment() -> None:
    call_command("load_demo_clinic")
    call_command("load_demo_booking")
    call_command("load_demo_booking")  # again: nothing doubles

    now = timezone.now()
    for kind in AppointmentType.objects.prefetch_related("practitioners"):
        offered = [
            slot
            for practitioner in kind.practitioners.all()
            for location in practitioner.locations.all()
            for slot in practitioner_free_slots(
                practitioner=practitioner,
                location=location,
                appointment_type=kind,
                now=now,
            )
        ]
        assert offered, kind
    assert AppointmentType.objects.count() == 5
    berlin = Location.objects.get(slug="berlin")
    assert WeeklyAvailability.objects.filter(location=berlin).count() == 1


def _sixteen_today() -> str:
    today = timezone.localdate()
    return today.replace(year=today.year - 16).isoformat()


def test_someone_under_18_never_books_an_injectable_even_once_cleared(
    published: QuestionnaireVersion, practitioner: Practitioner, location: Location
) -> None:
    physician: User = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    lead = lead_of(submit(published, birth_date=_sixteen_today()))
    assert lead.treatments.get(treatment="mesotherapy").outcome == "review"
    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Guardian present.",
        physician=physician,
    )
    assert lead.treatments.get(treatment="mesotherapy").outcome == "eligible"

    with pytest.raises(NotBookable):
        _book(lead, _appointment(practitioner), practitioner)
    assert booking_option_list(lead=lead, now=timezone.now(), days=30) == []


def _tanned_two_weeks_ago(published: QuestionnaireVersion) -> Lead:
    """Laser/IPL deferred until four weeks after a tan two weeks ago."""
    tan = timezone.localdate() - dt.timedelta(weeks=2)
    return lead_of(submit(published, recent_tan=True, recent_tan_date=tan.isoformat()))


def test_a_dated_deferral_is_offered_and_bookable_from_its_date_on(
    published: QuestionnaireVersion, location: Location
) -> None:
    practitioner = practitioner_make(location, weekdays=tuple(range(7)))
    lead = _tanned_two_weeks_ago(published)
    opens = timezone.localdate() + dt.timedelta(weeks=2)
    laser = lead.treatments.get(treatment="laser_ipl")
    assert (laser.outcome, laser.bookable_from) == ("deferred", opens)
    kind = _appointment(practitioner, treatment="laser_ipl")

    (option,) = [
        one
        for one in booking_option_list(lead=lead, now=timezone.now(), days=7)
        if one.appointment_type == kind
    ]

    zone = clinic_zone(location.time_zone)
    assert option.slots
    assert min(slot.start.astimezone(zone).date() for slot in option.slots) == opens
    the_day_before = dt.datetime.combine(
        opens - dt.timedelta(days=1), dt.time(10), tzinfo=zone
    )
    with pytest.raises(NotBookable):
        _book(lead, kind, practitioner, the_day_before)
    assert _book(lead, kind, practitioner, option.slots[0].start).starts_at == (
        option.slots[0].start
    )


def test_a_declined_deferral_is_no_longer_bookable_on_its_date(
    published: QuestionnaireVersion, location: Location
) -> None:
    physician: User = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    lead = _tanned_two_weeks_ago(published)

    lead_review_decide(
        lead=lead,
        treatment="laser_ipl",
        decision="declined",
        note="Not with this skin.",
        physician=physician,
    )

    laser = lead.treatments.get(treatment="laser_ipl")
    assert (laser.outcome, laser.bookable_from) == ("contraindicated", None)


_DAY_AFTER_MONDAY = (MONDAY_10 + dt.timedelta(days=1)).date()


@pytest.mark.parametrize(
    ("outcome", "bookable_from", "bookable"),
    [
        ("eligible", None, True),
        ("review", None, False),
        ("deferred", None, False),  # until a condition passes: a person looks again
        ("deferred", _DAY_AFTER_MONDAY, False),  # not on Monday, its date is Tuesday
        ("contraindicated", None, False),
    ],
)
def test_no_door_books_what_the_screening_does_not_allow(
    published: QuestionnaireVersion,
    practitioner: Practitioner,
    location: Location,
    outcome: str,
    bookable_from: dt.date | None,
    bookable: bool,
) -> None:
    """The service, the patient's page and the staff API, each asked for Monday."""
    lead = lead_of(submit(published))
    lead.treatments.filter(treatment="mesotherapy").update(
        outcome=outcome, bookable_from=bookable_from
    )
    kind = _appointment(practitioner)
    at = int(MONDAY_10.timestamp())
    choice = f"{kind.code.hex}.{practitioner.code.hex}.{location.pk}.{at}"
    link = booking_link_make(lead=lead, now=timezone.now())
    page = urlsplit(booking_link_url(link, language="en")).path
    coordinator = StaffMemberFactory.create(locations=[location]).user
    api = client_for(coordinator)
    staff_booking = {
        "appointment_type": str(kind.code),
        "practitioner": str(practitioner.code),
        "starts_at": MONDAY_10.isoformat(),
    }

    offered = booking_option_list(
        lead=lead, now=timezone.now(), since=MONDAY_10 - dt.timedelta(hours=1), days=1
    )
    api_offered = api.get(f"/api/v1/leads/{lead.code}/booking-options").json()

    assert bool(offered) is bookable
    zone = clinic_zone(location.time_zone)
    api_days = {
        dt.datetime.fromisoformat(slot["starts_at"]).astimezone(zone).date()
        for option in api_offered
        for slot in option["slots"]
    }
    if bookable_from is None:
        assert bool(api_days) is bookable
    else:  # the API's week starts on the deferral's date
        assert min(api_days) >= bookable_from
    if not bookable:
        with pytest.raises(NotBookable):
            _book(lead, kind, practitioner)
        assert Client().post(page + "book/", {"time": choice}).status_code == 409
        refused = api.post(
            f"/api/v1/leads/{lead.code}/bookings", staff_booking, format="json"
        )
        assert (refused.status_code, refused.json()["code"]) == (403, "not_bookable")
        assert not Booking.objects.exists()
    else:
        assert Client().post(page + "book/", {"time": choice}).status_code == 302
        assert Booking.objects.get().status == Booking.Status.CONFIRMED


def test_the_booking_options_take_a_fixed_number_of_queries(
    published: QuestionnaireVersion,
    practitioner: Practitioner,
    location: Location,
    django_assert_num_queries: Any,
) -> None:
    lead = lead_of(submit(published))
    kind = _appointment(practitioner)
    _book(lead, kind, practitioner)

    def options() -> list[Any]:
        return booking_option_list(lead=lead, now=timezone.now(), days=30)

    with django_assert_num_queries(11):
        one = options()
    for n in range(3):
        colleague = Practitioner.objects.create(
            display_name=f"Dr. {n}",
            kind=Practitioner.Kind.PHYSICIAN,
            languages=[lead.preferred_language],
        )
        colleague.locations.add(location)
        WeeklyAvailability.objects.create(
            practitioner=colleague,
            location=location,
            weekday=0,
            starts=dt.time(9),
            ends=dt.time(18),
        )
        kind.practitioners.add(colleague)
        _appointment(colleague, treatment="laser_ipl")
    with django_assert_num_queries(11):
        many = options()

    assert len(one) == 1
    assert len(many) == 7  # mesotherapy with 4 practitioners, laser/IPL with 3

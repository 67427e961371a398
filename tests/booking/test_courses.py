"""A course of sessions: the rest proposed at the first's weekday and time, booked
beyond the usual horizon, all or none; its maintenance window recorded."""

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from booking.links import booking_link_make, booking_link_url
from booking.models import AppointmentType, Booking, MaintenanceDue
from booking.selectors import course_rest_propose
from booking.services import (
    CourseSessionTaken,
    booking_cancel,
    booking_create,
    booking_reschedule,
    course_book_rest,
)
from clinics.models import Location, Practitioner
from core.dates import months_after
from core.zones import clinic_zone
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.booking import appointment_make, next_monday_at
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit

MONDAY_10 = next_monday_at(10)
WEEKS_3 = dt.timedelta(weeks=3)


@pytest.fixture
def course(doctor: Practitioner) -> AppointmentType:
    """Four sessions three weeks apart, bookable 30 days ahead; maintenance 6 to 12
    months after the last."""
    return appointment_make(
        doctor,
        course_sessions=4,
        course_spacing_days=21,
        maintenance_from_months=6,
        maintenance_until_months=12,
    )


@pytest.fixture
def lead(published: QuestionnaireVersion) -> Lead:
    return lead_of(submit(published))


def _first(lead: Lead, course: AppointmentType, doctor: Practitioner) -> Booking:
    return booking_create(
        lead=lead,
        appointment_type=course,
        practitioner=doctor,
        location=lead.location,
        starts_at=MONDAY_10,
    )


def _proposed(first: Booking) -> dict[int, dt.datetime]:
    """The times proposed for the rest of `first`'s course, by session number."""
    return {
        s.number: s.starts_at
        for s in course_rest_propose(first, now=timezone.now())
        if s.starts_at
    }


def _local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(clinic_zone("Europe/Istanbul")).date()


def test_the_rest_is_proposed_at_the_same_weekday_and_time_beyond_the_horizon(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)

    proposal = course_rest_propose(first, now=timezone.now())

    assert [(s.number, s.starts_at) for s in proposal] == [
        (2, MONDAY_10 + WEEKS_3),
        (3, MONDAY_10 + 2 * WEEKS_3),  # past the 30-day horizon of a first booking
        (4, MONDAY_10 + 3 * WEEKS_3),
    ]


def test_booking_the_rest_books_every_session_and_records_the_maintenance_window(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)
    assert not MaintenanceDue.objects.exists()  # the course is not complete yet

    sessions = course_book_rest(first=first, times=_proposed(first))

    assert [(s.session_number, s.course_first_id) for s in sessions] == [
        (2, first.pk),
        (3, first.pk),
        (4, first.pk),
    ]
    assert course_rest_propose(first, now=timezone.now()) == []
    last_day = _local_day(MONDAY_10 + 3 * WEEKS_3)
    due = MaintenanceDue.objects.get()
    assert (due.lead_id, due.due_from, due.due_until) == (
        lead.pk,
        months_after(last_day, 6),
        months_after(last_day, 12),
    )

    booking_cancel(booking=sessions[-1])

    assert not MaintenanceDue.objects.exists()  # incomplete again


def test_a_session_booked_already_is_not_booked_twice_and_nothing_else_is_either(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)
    times = _proposed(first)
    course_book_rest(first=first, times={2: times[2]})

    with pytest.raises(CourseSessionTaken):
        course_book_rest(first=first, times={3: times[3], 2: times[2]})

    assert Booking.objects.filter(course_first=first).count() == 2


def test_a_proposal_avoids_a_time_someone_else_has_taken(
    published: QuestionnaireVersion,
    lead: Lead,
    course: AppointmentType,
    doctor: Practitioner,
) -> None:
    first = _first(lead, course, doctor)
    other = lead_of(submit(published, email="someone.else@example.com"))
    # Another patient's first session where session 2 would fall.
    taken = booking_create(
        lead=other,
        appointment_type=appointment_make(doctor, horizon_days=60),
        practitioner=doctor,
        location=other.location,
        starts_at=MONDAY_10 + WEEKS_3,
    )

    second = course_rest_propose(first, now=timezone.now())[0]

    assert second.starts_at is not None
    assert _local_day(second.starts_at) == _local_day(taken.starts_at)
    assert not (
        taken.blocked_from < second.starts_at + dt.timedelta(minutes=45 + 15)
        and second.starts_at - dt.timedelta(minutes=10) < taken.blocked_until
    )


def test_a_further_booking_of_the_same_type_joins_the_course(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)

    second = booking_create(
        lead=lead,
        appointment_type=course,
        practitioner=doctor,
        location=lead.location,
        starts_at=MONDAY_10 + dt.timedelta(weeks=2),
    )

    assert (second.course_first_id, second.session_number) == (first.pk, 2)
    assert [s.number for s in course_rest_propose(first, now=timezone.now())] == [3, 4]


def test_the_patient_books_the_rest_from_their_page(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    _first(lead, course, doctor)
    link = booking_link_make(lead=lead, now=timezone.now())
    page = urlsplit(booking_link_url(link, language="en")).path
    client = Client()

    shown = client.get(page).content.decode()

    assert "This is the first of 4 sessions, about 3 weeks apart." in shown
    values = [part.split('"')[0] for part in shown.split('name="session" value="')[1:]]
    assert len(values) == 3
    booked = client.post(
        page + f"{Booking.objects.get().code}/course/", {"session": values}, follow=True
    )
    assert "Your 3 next sessions are booked." in booked.content.decode()
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 4


def test_staff_see_the_proposal_and_book_the_course_through_the_api(
    location: Location, lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)
    coordinator: User = staff(locations=[location])
    client = client_for(coordinator)
    url = f"/api/v1/leads/{lead.code}/bookings/{first.code}/course"

    proposal = client.get(url).json()
    sessions = [
        {"number": one["number"], "starts_at": one["starts_at"]} for one in proposal
    ]
    booked = client.post(url, {"sessions": sessions}, format="json")
    again = client.post(url, {"sessions": sessions[:1]}, format="json")
    listed = client.get(f"/api/v1/leads/{lead.code}/bookings").json()

    assert [one["number"] for one in proposal] == [2, 3, 4]
    assert booked.status_code == 201, booked.json()
    assert [one["session_number"] for one in booked.json()] == [2, 3, 4]
    assert again.status_code == 409
    assert again.json()["code"] == "course_session_taken"
    assert [(one["session_number"], one["course_sessions"]) for one in listed] == [
        (4, 4),
        (3, 4),
        (2, 4),
        (1, 4),
    ]
    assert {one["waiting_to_sync"] for one in listed} == {False}  # built-in calendar


def test_a_later_session_moves_to_a_time_around_its_own_date_beyond_the_horizon(
    lead: Lead, course: AppointmentType, doctor: Practitioner
) -> None:
    first = _first(lead, course, doctor)
    times = _proposed(first)
    last = course_book_rest(first=first, times=times)[-1]
    link = booking_link_make(lead=lead, now=timezone.now())
    page = urlsplit(booking_link_url(link, language="en")).path

    shown = Client().get(page, {"move": str(last.code)}).content.decode()
    week_later = MONDAY_10 + 3 * WEEKS_3 + dt.timedelta(hours=1)
    moved = booking_reschedule(
        booking=last, practitioner=doctor, location=lead.location, starts_at=week_later
    )

    assert _local_day(last.starts_at).strftime("%A %-d %B") in shown
    assert moved.starts_at == week_later
    assert moved.session_number == 4

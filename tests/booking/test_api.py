"""Staff book on a patient's behalf through the API, within what screening allows."""

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from booking.models import AppointmentType, Booking, WeeklyAvailability
from clinics.models import Location, Practitioner
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.factories import LocationFactory
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit


@pytest.fixture
def coordinator(location: Location) -> User:
    return staff(locations=[location])


@pytest.fixture
def mesotherapy(location: Location) -> AppointmentType:
    doctor = Practitioner.objects.create(
        display_name="Dr. Demir", kind=Practitioner.Kind.PHYSICIAN
    )
    doctor.locations.add(location)
    for weekday in range(7):
        WeeklyAvailability.objects.create(
            practitioner=doctor,
            location=location,
            weekday=weekday,
            starts=dt.time(9),
            ends=dt.time(17),
        )
    kind = AppointmentType.objects.create(
        name_en="Mesotherapy session",
        name_tr="Mezoterapi seansı",
        treatment="mesotherapy",
        duration_minutes=45,
        min_notice_hours=2,
    )
    kind.practitioners.add(doctor)
    return kind


def _options(user: User, lead: Lead) -> list[dict[str, object]]:
    response = client_for(user).get(f"/api/v1/leads/{lead.code}/booking-options")
    assert response.status_code == 200, response.content
    options: list[dict[str, object]] = response.json()
    return options


def test_a_coordinator_books_one_of_the_times_offered(
    published: QuestionnaireVersion, coordinator: User, mesotherapy: AppointmentType
) -> None:
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"]))
    [option] = _options(coordinator, lead)
    first = option["slots"][0]  # type: ignore[index]

    response = client_for(coordinator).post(
        f"/api/v1/leads/{lead.code}/bookings",
        {
            "appointment_type": option["appointment_type"],
            "practitioner": option["practitioner"],
            "starts_at": first["starts_at"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    booking = Booking.objects.get(code=response.json()["code"])
    assert booking.booked_by == coordinator
    assert booking.lead.status == Lead.Status.BOOKED
    # The booked time is no longer offered.
    [again] = _options(coordinator, lead)
    assert first not in again["slots"]  # type: ignore[operator]


def test_nothing_is_offered_or_bookable_that_screening_does_not_allow(
    published: QuestionnaireVersion, coordinator: User, mesotherapy: AppointmentType
) -> None:
    lead = lead_of(
        submit(published, treatments_wanted=["mesotherapy"], allergies=["vitamin_k"])
    )
    starts_at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)

    offered = _options(coordinator, lead)
    response = client_for(coordinator).post(
        f"/api/v1/leads/{lead.code}/bookings",
        {
            "appointment_type": str(mesotherapy.code),
            "practitioner": str(mesotherapy.practitioners.get().code),
            "starts_at": starts_at.isoformat(),
        },
        format="json",
    )

    assert offered == []
    assert response.status_code == 403
    assert response.json()["code"] == "not_bookable"
    assert not Booking.objects.exists()


def test_a_time_not_offered_is_refused_naming_the_field(
    published: QuestionnaireVersion, coordinator: User, mesotherapy: AppointmentType
) -> None:
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"]))
    in_an_hour = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # notice is 2 hours

    response = client_for(coordinator).post(
        f"/api/v1/leads/{lead.code}/bookings",
        {
            "appointment_type": str(mesotherapy.code),
            "practitioner": str(mesotherapy.practitioners.get().code),
            "starts_at": in_an_hour.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "slot_taken"
    assert "starts_at" in response.json()["fields"]


def test_staff_record_a_session_attended_once_it_has_begun(
    published: QuestionnaireVersion,
    coordinator: User,
    mesotherapy: AppointmentType,
    location: Location,
) -> None:
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"]))
    [option] = _options(coordinator, lead)
    made = client_for(coordinator).post(
        f"/api/v1/leads/{lead.code}/bookings",
        {
            "appointment_type": option["appointment_type"],
            "practitioner": option["practitioner"],
            "starts_at": option["slots"][0]["starts_at"],  # type: ignore[index]
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    booking = Booking.objects.get()
    url = f"/api/v1/leads/{lead.code}/bookings/{booking.code}/attended"

    early = client_for(coordinator).post(url)
    assert early.status_code == 409
    assert early.json()["code"] == "not_attended_yet"

    shift = booking.starts_at - (timezone.now() - dt.timedelta(minutes=30))
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=F("starts_at") - shift,
        ends_at=F("ends_at") - shift,
        blocked_from=F("blocked_from") - shift,
        blocked_until=F("blocked_until") - shift,
    )
    elsewhere = staff(locations=[LocationFactory.create(slug="kadikoy")])
    assert client_for(elsewhere).post(url).status_code == 404

    attended = client_for(coordinator).post(url)
    assert attended.status_code == 200, attended.content
    assert attended.json()["attended_at"] is not None
    lead.refresh_from_db()
    assert lead.status == "in_treatment"
    assert lead.events.filter(kind="booking", data__change="attended").count() == 1

"""The patient books, moves and cancels through their signed link, on the spot
after the questionnaire or later; routing finds a practitioner who speaks their
language, or says on the timeline that it could not."""

import datetime as dt
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from booking.links import booking_link_make, booking_link_url
from booking.models import AppointmentType, Booking
from booking.offers import booking_choices
from booking.services import booking_cancel, booking_create
from clinics.models import Location, Practitioner
from intake.models import QuestionnaireVersion
from intake.views import SUBMITTED_SESSION_KEY
from leads.models import Lead, LeadEvent, WebhookDelivery, WebhookEndpoint
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.factories import LocationFactory
from tests.support.submitting import lead_of, submit

MONDAY_10 = next_monday_at(10)


def _page_path(lead: Lead, language: str = "en") -> str:
    link = booking_link_make(lead=lead, now=timezone.now())
    return urlsplit(booking_link_url(link, language=language)).path


def _choice_at(lead: Lead, starts_at: dt.datetime) -> str:
    (offered,) = booking_choices(lead=lead, now=timezone.now(), since=starts_at)
    return next(t.choice for t in offered.times if t.starts_at == starts_at)


def _hooked(*event_types: str) -> None:
    WebhookEndpoint.objects.create(
        name="CRM", url="https://crm.example/hook", secret="s" * 32,
        event_types=list(event_types),
    )  # fmt: skip


def test_the_api_answer_carries_the_booking_link_and_the_first_free_times(
    api_client: APIClient, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    response = api_client.post(
        "/api/v1/submissions", {"answers": complete_answers()}, format="json"
    )

    assert response.status_code == 201, response.json()
    offer = response.json()["booking"]
    assert offer["time_zone"] == "Europe/Istanbul"
    (appointment,) = offer["appointments"]
    assert appointment["treatment"] == "mesotherapy"
    assert appointment["duration_minutes"] == 45
    assert 0 < len(appointment["times"]) <= 6
    first = appointment["times"][0]
    # A website posts the choice to the link and the person is booked.
    page = urlsplit(offer["url"]).path
    booked = Client().post(page + "book/", {"time": first["choice"]})
    assert booked.status_code == 302
    booking = Booking.objects.get()
    assert booking.starts_at == dt.datetime.fromisoformat(first["starts_at"])
    assert booking.booked_by is None


def test_no_link_is_offered_for_a_treatment_the_screening_does_not_allow(
    api_client: APIClient, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    response = api_client.post(
        "/api/v1/submissions",
        {"answers": complete_answers(allergies=["vitamin_k"])},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["booking"] is None


def test_the_last_page_of_the_questionnaire_offers_times_to_book_there(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    submission = submit(published)
    browser = client.session
    browser[SUBMITTED_SESSION_KEY] = [str(submission.code)]
    browser.save()

    page = client.get(f"/en/consultation/done/{submission.code}/")

    html = page.content.decode()
    assert "Mesotherapy session" in html
    assert "More days and times" in html
    assert 'name="time"' in html
    assert "A coordinator will send you the times" not in html


def test_the_last_page_links_a_deferred_treatment_to_its_times_from_its_date(
    client: Client, published: QuestionnaireVersion, location: Location
) -> None:
    every_day = practitioner_make(location, weekdays=tuple(range(7)))
    appointment_make(every_day, treatment="laser_ipl", horizon_days=60)
    tan = timezone.localdate() - dt.timedelta(weeks=2)
    submission = submit(
        published,
        treatments_wanted=["laser_ipl"],
        recent_tan=True,
        recent_tan_date=tan.isoformat(),
    )
    browser = client.session
    browser[SUBMITTED_SESSION_KEY] = [str(submission.code)]
    browser.save()

    html = client.get(f"/en/consultation/done/{submission.code}/").content.decode()

    assert "You can already choose a time from that day on." in html
    assert 'name="time"' not in html  # no time to pick before the date here
    assert "Choose your time" not in html


def test_the_booking_page_books_a_time_and_shows_it_with_its_changes(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    _hooked("booking.created")
    lead = lead_of(submit(published))
    page = _page_path(lead)

    chosen = client.post(page + "book/", {"time": _choice_at(lead, MONDAY_10)})

    assert chosen.status_code == 302
    shown = client.get(chosen["Location"]).content.decode()
    assert "Your appointment is booked" in shown
    assert "Change the time" in shown
    assert "Cancel" in shown
    assert "10:00" in shown  # the clinic's local time, not UTC (07:00)
    lead.refresh_from_db()
    assert lead.status == Lead.Status.BOOKED
    assert WebhookDelivery.objects.filter(event_type="booking.created").count() == 1


def test_whoever_loses_a_time_is_told_kindly_and_shown_the_times_still_free(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    first, second = (
        lead_of(submit(published, email=f"p{n}@example.com", phone=f"+90532000000{n}"))
        for n in (1, 2)
    )
    taken = _choice_at(second, MONDAY_10)
    booking_create(
        lead=first, appointment_type=session, practitioner=session.practitioners.get(),
        location=first.location, starts_at=MONDAY_10,
    )  # fmt: skip

    refused = client.post(_page_path(second) + "book/", {"time": taken})

    assert refused.status_code == 409
    html = refused.content.decode()
    assert "Someone has just booked that time" in html
    assert 'name="time"' in html  # the next free times, on the same page
    assert Booking.objects.count() == 1


def test_the_person_moves_their_booking_through_the_link(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    _hooked("booking.rescheduled")
    lead = lead_of(submit(published))
    booking = booking_create(
        lead=lead, appointment_type=session, practitioner=session.practitioners.get(),
        location=lead.location, starts_at=MONDAY_10,
    )  # fmt: skip
    later = MONDAY_10 + dt.timedelta(hours=3)
    page = _page_path(lead)

    choosing = client.get(page, {"move": str(booking.code)})
    moved = client.post(
        f"{page}{booking.code}/move/", {"time": _choice_at(lead, later)}
    )

    assert "Choose a new time" in choosing.content.decode()
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert (booking.starts_at, booking.sequence) == (later, 1)
    event = lead.events.filter(kind=LeadEvent.Kind.BOOKING).latest("id")
    assert event.data["change"] == "rescheduled"
    assert WebhookDelivery.objects.filter(event_type="booking.rescheduled").count() == 1
    # The old time is free again.
    assert MONDAY_10 in {t.starts_at for t in booking_choices(
        lead=lead, now=timezone.now(), since=MONDAY_10)[0].times}  # fmt: skip


def test_the_person_cancels_and_the_lead_is_ready_to_book_again(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    _hooked("booking.cancelled")
    lead = lead_of(submit(published))
    booking = booking_create(
        lead=lead, appointment_type=session, practitioner=session.practitioners.get(),
        location=lead.location, starts_at=MONDAY_10,
    )  # fmt: skip
    cancel = f"{_page_path(lead)}{booking.code}/cancel/"

    asked = client.get(cancel)
    done = client.post(cancel)

    assert "Yes, cancel it" in asked.content.decode()
    assert done.status_code == 302
    booking.refresh_from_db()
    lead.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED
    assert lead.status == Lead.Status.QUALIFIED
    assert WebhookDelivery.objects.filter(event_type="booking.cancelled").count() == 1


def test_inside_the_change_notice_the_person_is_asked_to_call(
    client: Client, published: QuestionnaireVersion, doctor: Practitioner
) -> None:
    kind = appointment_make(doctor, change_notice_hours=24 * 60)
    lead = lead_of(submit(published))
    booking = booking_create(
        lead=lead, appointment_type=kind, practitioner=doctor,
        location=lead.location, starts_at=MONDAY_10,
    )  # fmt: skip
    page = _page_path(lead)

    shown = client.get(page).content.decode()
    client.post(f"{page}{booking.code}/cancel/")

    assert "Change the time" not in shown
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    # Staff may still cancel for the person.
    coordinator = User.objects.create_user("coordinator")
    assert booking_cancel(booking=booking, by=coordinator).status == "cancelled"


def test_a_tampered_link_is_not_found_and_an_old_one_says_it_expired(
    client: Client, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    old = booking_link_make(lead=lead, now=timezone.now() - dt.timedelta(days=60))
    page = _page_path(lead)

    assert client.get(page[:-3] + "x/").status_code == 404
    expired = client.get(urlsplit(booking_link_url(old, language="en")).path)
    assert expired.status_code == 410
    assert "expired" in expired.content.decode()


def test_routing_prefers_the_persons_language_then_any_then_another_location(
    published: QuestionnaireVersion, location: Location
) -> None:
    speaks_english = practitioner_make(location, name="Dr. English", languages=("en",))
    kind = appointment_make(speaks_english)
    lead = lead_of(submit(published))  # prefers Turkish
    assert lead.preferred_language == "tr"

    def routed() -> set[tuple[str, str]]:
        return {
            (time.practitioner.display_name, choice.routing)
            for choice in booking_choices(lead=lead, now=timezone.now(), days=14)
            for time in choice.times
        }

    assert routed() == {("Dr. English", "any_language")}
    speaks_turkish = practitioner_make(location, name="Dr. Türkçe")
    kind.practitioners.add(speaks_turkish)
    assert routed() == {("Dr. Türkçe", "language")}

    elsewhere = LocationFactory.create(slug="berlin", time_zone="Europe/Berlin")
    away = practitioner_make(elsewhere, name="Dr. Berlin", languages=("tr",))
    kind.practitioners.set([away])
    assert routed() == {("Dr. Berlin", "other_location")}
    booking = booking_create(
        lead=lead, appointment_type=kind, practitioner=away, location=elsewhere,
        starts_at=next_monday_at(10, "Europe/Berlin"),
    )  # fmt: skip
    event = lead.events.get(kind=LeadEvent.Kind.BOOKING)
    assert event.data["routing"] == booking.routing == "other_location"


def test_the_page_says_what_happens_for_an_appointment_it_cannot_offer(
    published: QuestionnaireVersion, doctor: Practitioner, session: AppointmentType
) -> None:
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy", "laser_ipl"]))
    lead.treatments.filter(treatment="laser_ipl").update(outcome="contraindicated")
    laser = appointment_make(doctor, treatment="laser_ipl")
    laser.name_en = "Laser / IPL session"
    laser.save()

    shown = (
        Client()
        .get(_page_path(lead), {"from": MONDAY_10.date().isoformat()})
        .content.decode()
    )

    assert "Mesotherapy session" in shown
    assert "Laser / IPL session</strong>:" in shown
    assert "a coordinator will contact you to arrange this." in shown
    assert laser.code.hex not in shown  # no time to choose for it

"""The timed follow-ups, with the clock moved: each step at its moment, stopped by a
booking, never marketing without consent, quiet at night, capped, and made once
however many schedulers run."""

import datetime as dt

import pytest
from django.core import mail
from django.db.models import F
from django.test.utils import override_settings
from django.utils import timezone

from booking.models import AppointmentType, Booking, MaintenanceDue
from booking.selectors import booking_option_list, course_rest_propose
from booking.services import (
    BookingCancelled,
    NotAttendedYet,
    booking_attended_record,
    booking_cancel,
    booking_create,
    booking_reschedule,
    course_book_rest,
)
from clinics.models import Location, StaffMember
from core.models import DeliveryStatus
from core.zones import clinic_zone
from followups.models import Category, Enrollment, FollowUpMessage, Sequence, Step
from followups.services import followup_message_send, followup_schedule_due
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent
from leads.services.review import lead_review_decide
from leads.services.timeline import lead_transition
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit
from tests.support.threads import in_threads

MINUTE, HOUR, DAY = (
    dt.timedelta(minutes=1),
    dt.timedelta(hours=1),
    dt.timedelta(days=1),
)


def _submitted_at(lead: Lead) -> dt.datetime:
    return LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.SUBMITTED).created_at


def _made_at(moment: dt.datetime) -> list[str]:
    """Run the scheduler at `moment`; the templates of the messages it made."""
    before = set(FollowUpMessage.objects.values_list("pk", flat=True))
    followup_schedule_due(now=moment)
    return list(
        FollowUpMessage.objects.exclude(pk__in=before)
        .order_by("pk")
        .values_list("step__template_key", flat=True)
    )


def _send_all() -> None:
    pending = FollowUpMessage.objects.filter(status=DeliveryStatus.PENDING)
    for pk in pending.order_by("pk").values_list("pk", flat=True):
        followup_message_send(message_id=pk)


def test_reminders_fire_at_their_moments_and_stop_once_the_person_books(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published, preferred_language="en"))
    t0 = _submitted_at(lead)

    assert _made_at(t0 + 59 * MINUTE) == []
    assert _made_at(t0 + 61 * MINUTE) == ["nudge"]
    assert _made_at(t0 + 61 * MINUTE) == []  # once
    assert _made_at(t0 + DAY + MINUTE) == ["reminder_unbooked"]
    slot = booking_option_list(lead=lead, now=timezone.now())[0].slots[0]
    booking_create(
        lead=lead,
        appointment_type=session,
        practitioner=session.practitioners.get(),
        location=lead.location,
        starts_at=slot.start,
    )
    for later in (3 * DAY, 7 * DAY):
        assert "reminder_unbooked" not in _made_at(t0 + later + MINUTE)

    reminders = Enrollment.objects.get(sequence__name="Reminders while not booked")
    assert reminders.stopped_because == "booked"
    _send_all()
    assert [message.subject for message in mail.outbox][:3] == [
        "We have your questionnaire, Ayşe",
        "Your time at Demo Aesthetic Clinic is still free",
        "Shall we find you a time, Ayşe?",
    ]


def test_the_nudge_is_skipped_when_there_is_nothing_to_book_online(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published))  # the clinic has no appointment types yet

    assert _made_at(_submitted_at(lead) + 61 * MINUTE) == []
    nudge = Enrollment.objects.get(sequence__name="Booking nudge")
    assert nudge.stopped_because == "nothing to book online"


@pytest.mark.parametrize("consent", [False, True])
def test_marketing_only_with_consent_over_a_whole_year(
    published: QuestionnaireVersion, consent: bool
) -> None:
    lead = lead_of(submit(published, consent_marketing=consent))
    t0 = _submitted_at(lead)

    for day in range(1, 366):
        for hour in (3, 12):  # at night and at noon, each day
            _made_at(t0.replace(hour=hour) + day * DAY)
            _send_all()

    marketing = FollowUpMessage.objects.filter(category=Category.MARKETING)
    assert marketing.count() == (1 if consent else 0)
    assert len(mail.outbox) == 4 + int(consent)  # acknowledgment, three reminders
    if consent:
        sent = marketing.get().sent_at
        assert sent is not None
        zone = clinic_zone(lead.location.time_zone)
        assert 9 <= marketing.get().created_at.astimezone(zone).hour < 21


def test_marketing_waits_out_the_persons_quiet_hours(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published, consent_marketing=True))
    zone = clinic_zone(lead.location.time_zone)
    t0 = _submitted_at(lead)
    for days in (1, 3, 7):  # the reminders before it
        _made_at(t0 + days * DAY + MINUTE)
    due = t0 + 30 * DAY
    # 22:30 on the day it falls due, or when it falls due if that is later (a test
    # run after 22:30 in Istanbul): night either way.
    night = max(
        dt.datetime.combine(due.astimezone(zone).date(), dt.time(22, 30), tzinfo=zone),
        due.astimezone(zone),
    )

    assert "reengagement" not in _made_at(night)
    later = Enrollment.objects.get(sequence__name="Re-engagement of cold leads")
    assert later.next_due_at == dt.datetime.combine(
        night.date() + DAY, dt.time(9), tzinfo=zone
    )
    assert _made_at(later.next_due_at) == ["reengagement"]


@override_settings(FOLLOWUP_DAILY_CAP=1)
def test_no_more_timed_messages_a_day_than_the_cap(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    t0 = _submitted_at(lead)

    # The nudge (1 hour) and the first reminder (1 day) are both due by then.
    assert _made_at(t0 + DAY + MINUTE) == ["nudge"]
    assert _made_at(t0 + DAY + 2 * MINUTE) == []  # capped: an hour later, and again
    assert _made_at(t0 + 2 * DAY + 2 * HOUR) == ["reminder_unbooked"]


@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_once_make_each_due_message_once(
    published: QuestionnaireVersion,
) -> None:
    leads = [
        lead_of(
            submit(published, email=f"p{n}@example.com", phone=f"0532 000 00 {n:02}")
        )
        for n in range(40)
    ]
    moment = _submitted_at(leads[-1]) + DAY + MINUTE

    errors = in_threads(
        *[lambda: followup_schedule_due(now=moment, batch=7) for _ in range(2)]
    )
    due = Enrollment.objects.filter(finished_at__isnull=True, next_due_at__lte=moment)
    while due.exists():
        followup_schedule_due(now=moment, batch=7)

    assert errors == []
    reminders = FollowUpMessage.objects.filter(step__template_key="reminder_unbooked")
    assert reminders.count() == len(leads)
    assert reminders.values("lead").distinct().count() == len(leads)


def _visit(lead: Lead, session: AppointmentType, days: int) -> Booking:
    """A visit `days` days ahead, at the first free time then."""
    since = timezone.now() + days * DAY
    slot = booking_option_list(lead=lead, now=timezone.now(), since=since, days=7)[
        0
    ].slots[0]
    return booking_create(
        lead=lead,
        appointment_type=session,
        practitioner=session.practitioners.get(),
        location=lead.location,
        starts_at=slot.start,
    )


def _took_place(visit: Booking) -> Booking:
    """`visit`, as if it had begun an hour ago (the services read the real clock)."""
    shift = visit.starts_at - (timezone.now() - HOUR)
    Booking.objects.filter(pk=visit.pk).update(
        **{
            moment: F(moment) - shift
            for moment in ("starts_at", "ends_at", "blocked_from", "blocked_until")
        }
    )
    visit.refresh_from_db()
    return visit


def test_a_visit_is_prepared_for_reminded_and_cared_for_once_attended(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published, preferred_language="en"))
    visit = _visit(lead, session, days=5)
    start = visit.starts_at

    assert _made_at(start - 2 * DAY - MINUTE) == []
    assert _made_at(start - 2 * DAY + MINUTE) == ["visit_preparation"]
    assert _made_at(start - DAY + MINUTE) == ["visit_reminder"]
    assert _made_at(start + DAY + MINUTE) == []  # no aftercare for a missed visit

    visit = _took_place(visit)
    booking_attended_record(booking=visit, by=None)
    booking_attended_record(booking=visit, by=None)  # twice: once
    lead.refresh_from_db()
    assert lead.status == "in_treatment"
    assert _made_at(visit.starts_at + DAY - MINUTE) == []
    assert _made_at(visit.starts_at + DAY + MINUTE) == ["aftercare"]
    # A single appointment has no next session to remind of.
    assert _made_at(visit.starts_at + 3 * DAY + MINUTE) == []

    FollowUpMessage.objects.exclude(booking=visit).delete()
    FollowUpMessage.objects.filter(step__template_key="booking_made").delete()
    mail.outbox.clear()
    _send_all()
    _preparation, reminder, aftercare = mail.outbox
    assert reminder.subject.startswith("See you tomorrow: ")
    assert "Mesotherapy session" in reminder.body
    assert "/book/" in reminder.body  # the link to move or cancel it
    assert "Mild redness or swelling usually settles within hours" in aftercare.body
    assert "call 112" in aftercare.body


def test_a_session_not_begun_or_cancelled_cannot_be_attended(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    visit = _visit(lead, session, days=2)
    with pytest.raises(NotAttendedYet):
        booking_attended_record(booking=visit, by=None)
    booking_cancel(booking=_took_place(visit), by=StaffMemberFactory.create().user)
    with pytest.raises(BookingCancelled):
        booking_attended_record(booking=visit, by=None)
    assert not Enrollment.objects.filter(sequence__trigger="session_attended")


def test_mid_course_the_next_session_is_reminded_until_it_is_booked(
    published: QuestionnaireVersion, location: Location
) -> None:
    doctor = practitioner_make(location, weekdays=tuple(range(7)))
    course = appointment_make(
        doctor, course_sessions=3, course_spacing_days=14, horizon_days=90
    )
    lead = lead_of(submit(published, preferred_language="en"))
    first = _took_place(_visit(lead, course, days=1))
    booking_attended_record(booking=first, by=None)
    start = first.starts_at
    # The submission's own sequences (submitted "after" the session here) aside:
    Enrollment.objects.exclude(sequence__trigger="session_attended").delete()

    assert _made_at(start + DAY + MINUTE) == ["aftercare"]
    assert _made_at(start + 3 * DAY + MINUTE) == ["next_session"]
    followup_message_send(
        message_id=FollowUpMessage.objects.get(step__template_key="next_session").pk
    )
    assert mail.outbox[-1].subject == "Your next session at Demo Aesthetic Clinic"
    assert "/book/" in mail.outbox[-1].body

    _visit(lead, course, days=14)  # the second session, booked
    assert _made_at(start + 10 * DAY + MINUTE) == []
    reminder = Enrollment.objects.get(sequence__name="Next session of a course")
    assert reminder.stopped_because == "booked"


def test_a_moved_visit_is_reminded_for_its_new_time_and_a_cancelled_one_not(
    published: QuestionnaireVersion, session: AppointmentType
) -> None:
    lead = lead_of(submit(published))
    visit = _visit(lead, session, days=5)
    old_start = visit.starts_at
    later = booking_option_list(
        lead=lead, now=timezone.now(), since=old_start + 3 * DAY, days=7, moving=visit
    )[0].slots[0]
    booking_reschedule(
        booking=visit,
        practitioner=visit.practitioner,
        location=visit.location,
        starts_at=later.start,
    )

    assert "visit_reminder" not in _made_at(old_start - DAY + MINUTE)
    assert "visit_preparation" in _made_at(later.start - 2 * DAY + MINUTE)

    booking_cancel(booking=visit)
    assert _made_at(later.start - DAY + MINUTE) == []  # no reminder for no visit
    stopped = Enrollment.objects.filter(booking=visit).values_list(
        "stopped_because", flat=True
    )
    assert sorted(stopped) == ["visit cancelled", "visit rescheduled"]


def test_a_step_past_its_moment_gives_way_to_the_one_due_after_it(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published))

    # The scheduler was away for four days: the 3-day reminder, not the 1-day one.
    made = _made_at(_submitted_at(lead) + 4 * DAY)

    assert made == ["reminder_unbooked"]
    reminders = Enrollment.objects.get(sequence__name="Reminders while not booked")
    assert reminders.position == 2  # the 7-day one is next


def test_a_physicians_clearing_tells_the_person_they_may_book_now(
    published: QuestionnaireVersion, session: AppointmentType, location: Location
) -> None:
    physician = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    lead = lead_of(
        submit(published, preferred_language="en", blood_thinners=["aspirin"])
    )
    mail.outbox.clear()

    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Aspirin only.",
        physician=physician,
    )
    _send_all()

    cleared = [m for m in mail.outbox if m.subject.startswith("A physician has")]
    (message,) = cleared
    assert "you can choose a time now." in message.body
    assert "You can choose your time now: http" in message.body
    assert "aspirin" not in message.body.lower()


def test_two_treatments_cleared_before_the_email_went_make_one_email(
    published: QuestionnaireVersion, location: Location
) -> None:
    physician = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    # Under 18: both treatments wait for a physician.
    lead = lead_of(submit(published, preferred_language="en", birth_date="2010-03-01"))
    for treatment in ("mesotherapy", "laser_ipl"):
        lead_review_decide(
            lead=lead,
            treatment=treatment,
            decision="cleared",
            note="With a guardian.",
            physician=physician,
        )
    mail.outbox.clear()
    _send_all()

    cleared = [m for m in mail.outbox if m.subject.startswith("A physician has")]
    assert len(cleared) == 1


def test_a_lost_lead_and_a_status_condition_start_and_stop_sequences(
    published: QuestionnaireVersion, location: Location
) -> None:
    farewell = Sequence.objects.create(name="Farewell", trigger="lead_lost")
    Step.objects.create(sequence=farewell, template_key="reengagement")
    Step.objects.create(
        sequence=farewell, position=2, template_key="reengagement", delay_minutes=60
    )
    while_new = Sequence.objects.create(
        name="While new", trigger="submission_received", only_status="new"
    )
    Step.objects.create(
        sequence=while_new, template_key="reminder_unbooked", delay_minutes=60
    )
    coordinator = StaffMemberFactory.create(locations=[location]).user
    lead = lead_of(submit(published))
    lead_transition(lead=lead, to_status="contacted", actor=coordinator)

    assert "reminder_unbooked" not in _made_at(_submitted_at(lead) + 61 * MINUTE)
    assert Enrollment.objects.get(sequence=while_new).stopped_because == (
        "another status"
    )
    lead_transition(lead=lead, to_status="lost", actor=coordinator, lost_reason="price")
    assert FollowUpMessage.objects.filter(step__sequence=farewell).count() == 1
    lost_at = LeadEvent.objects.filter(kind=LeadEvent.Kind.STATUS_CHANGED).latest("pk")
    _made_at(lost_at.created_at + 61 * MINUTE)  # a lost lead's own sequence goes on
    assert FollowUpMessage.objects.filter(step__sequence=farewell).count() == 2


def test_a_complete_course_is_reminded_of_maintenance_until_booked_again(
    published: QuestionnaireVersion, location: Location
) -> None:
    doctor = practitioner_make(location, weekdays=tuple(range(7)))
    course = appointment_make(
        doctor,
        course_sessions=2,
        course_spacing_days=21,
        maintenance_from_months=6,
        maintenance_until_months=12,
        horizon_days=400,
    )
    lead = lead_of(submit(published, preferred_language="en"))
    first = _visit(lead, course, days=2)
    course_book_rest(first=first, times=_proposed_rest(first))
    due = MaintenanceDue.objects.get()
    zone = clinic_zone(location.time_zone)
    opens = dt.datetime.combine(due.due_from, dt.time(10), tzinfo=zone)

    # Moving the first session keeps the window (it follows the last one).
    moved_to = booking_option_list(
        lead=lead, now=timezone.now(), since=first.starts_at + DAY, days=3, moving=first
    )[0].slots[0]
    booking_reschedule(
        booking=first, practitioner=doctor, location=location, starts_at=moved_to.start
    )
    assert Enrollment.objects.get(
        sequence__name="Maintenance after a course", finished_at__isnull=True
    )
    _made_at(opens - 30 * DAY)  # the course's own visits: reminders and aftercare
    assert "maintenance" not in _made_at(opens - MINUTE)
    assert _made_at(opens + MINUTE) == ["maintenance"]
    message = FollowUpMessage.objects.get(step__template_key="maintenance")
    followup_message_send(message_id=message.pk)
    assert mail.outbox[-1].subject == (
        "Time for your maintenance session at Demo Aesthetic Clinic"
    )
    assert "Mesotherapy session" in mail.outbox[-1].body

    booking_create(
        lead=lead,
        appointment_type=course,
        practitioner=doctor,
        location=location,
        starts_at=booking_option_list(
            lead=lead, now=timezone.now(), since=opens + DAY, days=7
        )[0]
        .slots[0]
        .start,
    )
    assert "maintenance" not in _made_at(opens + 183 * DAY)
    maintenance = Enrollment.objects.get(sequence__name="Maintenance after a course")
    assert maintenance.stopped_because == "booked"


def _proposed_rest(first: Booking) -> dict[int, dt.datetime]:
    return {
        s.number: s.starts_at
        for s in course_rest_propose(first, now=timezone.now())
        if s.starts_at
    }


def test_a_sequence_for_one_screening_outcome_skips_everyone_else(
    published: QuestionnaireVersion,
) -> None:
    for_review = Sequence.objects.create(
        name="While a physician looks",
        trigger="submission_received",
        only_outcome="review",
    )
    Step.objects.create(sequence=for_review, template_key="reminder_unbooked")
    waiting = lead_of(submit(published, blood_thinners=["aspirin"]))
    eligible = lead_of(
        submit(published, email="other@example.com", phone="0532 999 88 77")
    )

    _send_all()

    sent = FollowUpMessage.objects.filter(step__sequence=for_review)
    assert sent.get(lead=waiting).status == DeliveryStatus.SENT
    assert sent.get(lead=eligible).status == DeliveryStatus.SKIPPED
    assert "screening outcome" in sent.get(lead=eligible).last_error

import datetime as dt

import pytest
from django.contrib.auth.models import User
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks
from pytest_django.fixtures import Settings as SettingsWrapper

from clinics.models import Location, StaffMember
from core.zones import clinic_zone
from leads.models import Lead, LeadEvent, StaffNotification
from leads.services import deadlines
from leads.services.deadlines import first_contact_due_at, lead_deadlines_escalate
from tests.support.escalation import lead, open_location, staff
from tests.support.factories import LocationFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday
ISTANBUL = clinic_zone("Europe/Istanbul")


def minutes_ago(minutes: int) -> dt.datetime:
    return NOW - dt.timedelta(minutes=minutes)


@pytest.fixture
def location() -> Location:
    return open_location("nisantasi")


@pytest.fixture
def owner(location: Location) -> User:
    return staff(locations=(location,))


@pytest.fixture
def lead_coordinator(location: Location) -> User:
    return staff(locations=(location,), is_lead_coordinator=True)


@pytest.fixture
def clinic_admin(location: Location) -> User:
    return staff(role=StaffMember.Role.CLINIC_ADMIN, locations=(location,))


def escalation_levels(target: Lead) -> list[int]:
    events = LeadEvent.objects.filter(lead=target, kind=LeadEvent.Kind.ESCALATED)
    return [event.data["level"] for event in events.order_by("id")]


def notified(target: Lead) -> list[tuple[User, str]]:
    rows = StaffNotification.objects.filter(lead=target).order_by("id")
    return [(row.recipient, row.kind) for row in rows]


# First-contact deadlines


@pytest.mark.parametrize(
    ("priority", "deadline"),
    [
        ("high", dt.datetime(2026, 3, 2, 10, 5, tzinfo=ISTANBUL)),
        ("normal", dt.datetime(2026, 3, 2, 11, 0, tzinfo=ISTANBUL)),
        ("low", dt.datetime(2026, 3, 3, 10, 0, tzinfo=ISTANBUL)),
    ],
)
def test_the_first_contact_deadline_follows_the_priority(
    priority: str, deadline: dt.datetime
) -> None:
    clinic = LocationFactory.create(time_zone="Europe/Istanbul")  # default hours

    due = first_contact_due_at(
        location=clinic,
        priority=priority,
        start=dt.datetime(2026, 3, 2, 10, 0, tzinfo=ISTANBUL),
    )

    assert due == deadline


def test_a_lead_arriving_at_night_is_due_minutes_after_the_clinic_opens() -> None:
    clinic = LocationFactory.create(time_zone="Europe/Istanbul")
    saturday_night = dt.datetime(2026, 3, 7, 23, 30, tzinfo=ISTANBUL)

    due = first_contact_due_at(
        location=clinic, priority=Lead.Priority.HIGH, start=saturday_night
    )

    assert due == dt.datetime(2026, 3, 9, 9, 5, tzinfo=ISTANBUL)


def test_the_clinic_sets_its_own_first_contact_times(
    settings: SettingsWrapper,
) -> None:
    settings.LEAD_FIRST_CONTACT_MINUTES = {"high": 15, "normal": 120, "low": 540}
    clinic = LocationFactory.create(time_zone="Europe/Istanbul")
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ISTANBUL)

    due = first_contact_due_at(location=clinic, priority="high", start=start)

    assert due == start + dt.timedelta(minutes=15)


def test_an_unknown_priority_has_no_deadline(location: Location) -> None:
    with pytest.raises(ValueError, match="urgent"):
        first_contact_due_at(location=location, priority="urgent", start=NOW)


def test_a_location_without_opening_hours_counts_clock_minutes_and_logs_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = LocationFactory.create(opening_hours={})

    due = first_contact_due_at(location=closed, priority="high", start=NOW)

    assert due == NOW + dt.timedelta(minutes=5)
    assert "opening hours unusable" in caplog.text


# Escalation


def test_a_lead_not_yet_due_is_left_alone(location: Location, owner: User) -> None:
    waiting = lead(location=location, owner=owner, due_at=NOW + dt.timedelta(minutes=1))

    assert lead_deadlines_escalate(now=NOW) == 0

    waiting.refresh_from_db()
    assert waiting.escalation == Lead.Escalation.NONE
    assert escalation_levels(waiting) == []


def test_an_overdue_lead_reminds_its_owner_once(
    location: Location, owner: User, lead_coordinator: User
) -> None:
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(1))

    assert lead_deadlines_escalate(now=NOW) == 1
    assert lead_deadlines_escalate(now=NOW + dt.timedelta(minutes=1)) == 0

    overdue.refresh_from_db()
    assert overdue.escalation == Lead.Escalation.OVERDUE
    assert escalation_levels(overdue) == [1]
    assert notified(overdue) == [(owner, StaffNotification.Kind.OVERDUE)]


def test_thirty_minutes_overdue_tells_the_locations_lead_coordinators(
    location: Location, owner: User, lead_coordinator: User, clinic_admin: User
) -> None:
    elsewhere = open_location("bebek")
    staff(locations=(elsewhere,), is_lead_coordinator=True)
    staff(locations=(location,))  # a coordinator, not a lead coordinator
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(29))
    lead_deadlines_escalate(now=NOW)

    assert lead_deadlines_escalate(now=NOW + dt.timedelta(minutes=1)) == 1

    overdue.refresh_from_db()
    assert overdue.escalation == Lead.Escalation.LEAD_COORDINATOR
    assert escalation_levels(overdue) == [1, 2]
    assert notified(overdue) == [
        (owner, StaffNotification.Kind.OVERDUE),
        (lead_coordinator, StaffNotification.Kind.ESCALATED),
    ]


def test_an_hour_overdue_tells_the_clinic_admins(
    location: Location, owner: User, lead_coordinator: User, clinic_admin: User
) -> None:
    admin_of_all = staff(role=StaffMember.Role.CLINIC_ADMIN)
    staff(role=StaffMember.Role.CLINIC_ADMIN, locations=(open_location("bebek"),))
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(59))
    lead_deadlines_escalate(now=NOW)

    assert lead_deadlines_escalate(now=NOW + dt.timedelta(minutes=1)) == 1

    overdue.refresh_from_db()
    assert overdue.escalation == Lead.Escalation.CLINIC_ADMIN
    assert escalation_levels(overdue) == [1, 2, 3]
    assert notified(overdue)[-2:] == [
        (clinic_admin, StaffNotification.Kind.ESCALATED),
        (admin_of_all, StaffNotification.Kind.ESCALATED),
    ]
    # The last step: later runs do not even look at the lead again.
    assert lead_deadlines_escalate(now=NOW + dt.timedelta(days=1)) == 0


def test_a_lead_found_long_overdue_records_every_step_and_mails_each_person_once(
    location: Location, owner: User, lead_coordinator: User, clinic_admin: User
) -> None:
    # The lead coordinator is a clinic admin's colleague at two levels at once.
    StaffMember.objects.filter(user=clinic_admin).update(is_lead_coordinator=True)
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(70))

    assert lead_deadlines_escalate(now=NOW) == 3

    overdue.refresh_from_db()
    assert overdue.escalation == Lead.Escalation.CLINIC_ADMIN
    assert escalation_levels(overdue) == [1, 2, 3]
    assert notified(overdue) == [
        (owner, StaffNotification.Kind.OVERDUE),
        (lead_coordinator, StaffNotification.Kind.ESCALATED),
        (clinic_admin, StaffNotification.Kind.ESCALATED),
    ]


def test_an_overdue_lead_without_an_owner_goes_to_the_lead_coordinators(
    location: Location, lead_coordinator: User
) -> None:
    unowned = lead(location=location, due_at=minutes_ago(1))

    lead_deadlines_escalate(now=NOW)

    assert notified(unowned) == [(lead_coordinator, StaffNotification.Kind.ESCALATED)]


def test_an_owner_who_left_is_not_reminded(
    location: Location, owner: User, lead_coordinator: User
) -> None:
    User.objects.filter(pk=owner.pk).update(is_active=False)
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(1))

    lead_deadlines_escalate(now=NOW)

    assert notified(overdue) == [(lead_coordinator, StaffNotification.Kind.ESCALATED)]


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"first_contacted_at": NOW - dt.timedelta(hours=2)}, id="called"),
        pytest.param({"status": Lead.Status.CONTACTED}, id="contacted"),
        pytest.param({"status": Lead.Status.DISQUALIFIED}, id="disqualified"),
    ],
)
def test_a_lead_already_handled_is_never_escalated(
    location: Location, owner: User, fields: dict[str, object]
) -> None:
    handled = lead(location=location, owner=owner, due_at=minutes_ago(90), **fields)

    assert lead_deadlines_escalate(now=NOW) == 0
    assert escalation_levels(handled) == []


def test_a_lead_merged_into_another_is_never_escalated(
    location: Location, owner: User
) -> None:
    survivor = lead(location=location, owner=owner, due_at=NOW + dt.timedelta(days=1))
    duplicate = lead(
        location=location, owner=owner, due_at=minutes_ago(90), merged_into=survivor
    )

    assert lead_deadlines_escalate(now=NOW) == 0
    assert escalation_levels(duplicate) == []


def test_a_deadline_missed_at_closing_time_escalates_the_next_working_morning(
    owner: User, lead_coordinator: User
) -> None:
    clinic = LocationFactory.create(time_zone="Europe/Istanbul")  # weekdays 9-18
    StaffMember.objects.get(user=lead_coordinator).locations.add(clinic)
    due = dt.datetime(2026, 3, 2, 17, 50, tzinfo=ISTANBUL)
    missed = lead(location=clinic, owner=owner, due_at=due)

    def escalation_at(hour: int, minute: int, day: int = 2) -> int:
        lead_deadlines_escalate(
            now=dt.datetime(2026, 3, day, hour, minute, tzinfo=ISTANBUL)
        )
        missed.refresh_from_db()
        return missed.escalation

    assert escalation_at(17, 51) == Lead.Escalation.OVERDUE
    assert escalation_at(23, 59) == Lead.Escalation.OVERDUE
    # 10 working minutes on Monday evening, 20 on Tuesday morning.
    assert escalation_at(9, 19, day=3) == Lead.Escalation.OVERDUE
    assert escalation_at(9, 20, day=3) == Lead.Escalation.LEAD_COORDINATOR
    assert escalation_at(9, 50, day=3) == Lead.Escalation.CLINIC_ADMIN


def test_a_location_with_broken_opening_hours_still_escalates_by_the_clock(
    owner: User, lead_coordinator: User
) -> None:
    broken = LocationFactory.create(opening_hours={})
    StaffMember.objects.get(user=lead_coordinator).locations.add(broken)
    overdue = lead(location=broken, owner=owner, due_at=minutes_ago(31))

    assert lead_deadlines_escalate(now=NOW) == 2
    assert escalation_levels(overdue) == [1, 2]


def test_leads_are_escalated_in_batches_until_none_is_left(
    location: Location, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadlines, "ESCALATION_BATCH", 2)
    # Two share a deadline, so a batch ends between equal deadlines.
    due_times = [minutes_ago(5), minutes_ago(5), minutes_ago(4), minutes_ago(3)]
    overdue = [lead(location=location, owner=owner, due_at=due) for due in due_times]
    overdue.append(lead(location=location, owner=owner, due_at=minutes_ago(3)))

    assert lead_deadlines_escalate(now=NOW) == 5
    assert all(escalation_levels(each) == [1] for each in overdue)


def test_escalation_emails_are_sent_only_after_the_step_is_committed(
    location: Location,
    owner: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[int] = []
    monkeypatch.setattr("leads.tasks.staff_notification_send_task.delay", sent.append)
    lead(location=location, owner=owner, due_at=minutes_ago(1))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lead_deadlines_escalate(now=NOW)

    assert len(callbacks) == 1
    assert sent == [StaffNotification.objects.get().pk]


def test_a_run_that_read_before_another_took_the_step_takes_nothing(
    location: Location, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(1))
    escalate_one = deadlines._lead_escalate

    def another_run_got_there_first(**kwargs: object) -> int:
        Lead.objects.filter(pk=overdue.pk).update(escalation=Lead.Escalation.OVERDUE)
        return escalate_one(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deadlines, "_lead_escalate", another_run_got_there_first)

    assert lead_deadlines_escalate(now=NOW) == 0
    assert escalation_levels(overdue) == []
    assert notified(overdue) == []


def test_a_lead_contacted_while_the_run_was_reading_is_not_escalated(
    location: Location, owner: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    overdue = lead(location=location, owner=owner, due_at=minutes_ago(1))
    escalate_one = deadlines._lead_escalate

    def called_meanwhile(**kwargs: object) -> int:
        Lead.objects.filter(pk=overdue.pk).update(first_contacted_at=NOW)
        return escalate_one(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(deadlines, "_lead_escalate", called_meanwhile)

    assert lead_deadlines_escalate(now=NOW) == 0
    assert escalation_levels(overdue) == []

"""First-contact deadlines and the escalation of overdue leads.

A new lead must be contacted within LEAD_FIRST_CONTACT_MINUTES (by priority) of its
location's opening hours. A lead still new and uncontacted after its deadline
climbs a ladder, each step once per lead (Lead.escalation records the last):

1. overdue, at the deadline: its owner is reminded (no owner: the location's lead
   coordinators are told);
2. after 30 more working minutes: the location's lead coordinators;
3. after 60 more working minutes: the clinic admins of the location (or of all).

Overdue time is counted in opening hours too, so a deadline missed at closing time
escalates the next working morning, not in the night.
"""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinics.models import Location, StaffMember
from clinics.workinghours import deadline_after
from leads.models import Lead, LeadEvent, StaffNotification
from leads.selectors import lead_coordinator_list
from leads.services.notifications import staff_notification_queue

logger = logging.getLogger(__name__)

# (step, working minutes after the deadline at which it is taken), in order.
ESCALATION_STEPS: tuple[tuple[int, int], ...] = (
    (Lead.Escalation.OVERDUE, 0),
    (Lead.Escalation.LEAD_COORDINATOR, 30),
    (Lead.Escalation.CLINIC_ADMIN, 60),
)
ESCALATION_BATCH = 200


def first_contact_due_at(
    *, location: Location, priority: str, start: dt.datetime
) -> dt.datetime:
    """When a lead of `priority` created at `start` must have been contacted.

    LEAD_FIRST_CONTACT_MINUTES working minutes of the location's opening hours, in
    its time zone (defaults: high 5, normal 60, low 540, i.e. one working day of
    9 hours); a lead that arrives while the clinic is closed counts from the next
    opening. Unusable hours count clock minutes (logged), so that a submission is
    never refused for them. Raises ValueError for an unknown priority.
    """
    minutes: dict[str, int] = settings.LEAD_FIRST_CONTACT_MINUTES
    if priority not in minutes:
        raise ValueError(f"no first-contact time for priority {priority!r}")
    return _working_minutes_after(start, minutes[priority], location)


def lead_deadlines_escalate(*, now: dt.datetime | None = None) -> int:
    """Take every escalation step that has come due; return how many were taken.

    Exactly once per step and lead, however many workers run this at once: each
    lead's steps are claimed with a conditional UPDATE of Lead.escalation from the
    value read, in one transaction with their timeline events and notifications.
    A lead found several steps behind takes them all in order (an event each) and
    each recipient gets one email for them. Safe to run at any time and often.
    """
    now = now or timezone.now()
    awaiting = Lead.objects.filter(
        # first_contacted_at IS NULL and a range on the deadline: the partial index
        # lead_awaiting_contact_idx, which holds only leads not contacted yet.
        first_contacted_at__isnull=True,
        first_contact_due_at__lte=now,
        status=Lead.Status.NEW,
        merged_into__isnull=True,
        escalation__lt=Lead.Escalation.CLINIC_ADMIN,
    ).order_by("first_contact_due_at", "pk")
    locations: dict[int, Location] = {}
    taken = 0
    after: tuple[dt.datetime, int] | None = None
    while True:
        batch = awaiting
        if after is not None:
            batch = batch.filter(
                Q(first_contact_due_at__gt=after[0])
                | Q(first_contact_due_at=after[0], pk__gt=after[1])
            )
        rows = list(
            batch.values_list(
                "pk", "location_id", "first_contact_due_at", "escalation"
            )[:ESCALATION_BATCH]
        )
        missing = {row[1] for row in rows} - set(locations)
        locations.update(Location.objects.in_bulk(missing))
        for lead_id, location_id, due_at, escalation in rows:
            step = _step_due(location=locations[location_id], due_at=due_at, now=now)
            if step > escalation:
                taken += _lead_escalate(
                    lead_id=lead_id, seen=escalation, step=step, now=now
                )
        if len(rows) < ESCALATION_BATCH:
            return taken
        after = (rows[-1][2], rows[-1][0])


def _step_due(*, location: Location, due_at: dt.datetime, now: dt.datetime) -> int:
    """The highest escalation step a lead due at `due_at` has reached by `now`."""
    reached: int = Lead.Escalation.NONE
    for step, minutes in ESCALATION_STEPS:
        if _working_minutes_after(due_at, minutes, location) > now:
            break
        reached = step
    return reached


def _working_minutes_after(
    moment: dt.datetime, minutes: int, location: Location
) -> dt.datetime:
    if minutes == 0:
        # Overdue means past the deadline, even when it fell on closing time.
        return moment
    try:
        return deadline_after(
            moment,
            working_minutes=minutes,
            opening_hours=location.opening_hours,
            time_zone=location.time_zone,
        )
    except ValueError:
        # Broken opening hours must not stop intake or escalation: clock minutes.
        logger.exception(
            "opening hours unusable; counting clock time",
            extra={"location_id": location.pk},
        )
        return moment + dt.timedelta(minutes=minutes)


def _lead_escalate(*, lead_id: int, seen: int, step: int, now: dt.datetime) -> int:
    """Move one lead from step `seen` to `step`; return the steps taken (0: lost)."""
    with transaction.atomic(durable=True):
        claimed = Lead.objects.filter(
            pk=lead_id,
            escalation=seen,
            first_contacted_at__isnull=True,
            status=Lead.Status.NEW,
            merged_into__isnull=True,
        ).update(escalation=step, updated_at=now)
        if not claimed:
            # Another worker took these steps, or the lead was contacted meanwhile.
            return 0
        lead = Lead.objects.select_related("location", "owner").get(pk=lead_id)
        notified: set[int] = set()
        for level in range(seen + 1, step + 1):
            LeadEvent.objects.create(
                lead=lead, kind=LeadEvent.Kind.ESCALATED, data={"level": level}
            )
            recipients = _escalation_recipients(lead=lead, level=level)
            if not recipients:
                logger.warning(
                    "escalation step has nobody to tell",
                    extra={"lead_id": lead_id, "level": level},
                )
            for recipient, kind in recipients:
                if recipient.pk not in notified:
                    notified.add(recipient.pk)
                    staff_notification_queue(recipient=recipient, lead=lead, kind=kind)
    logger.info("lead escalated", extra={"lead_id": lead_id, "from": seen, "to": step})
    return step - seen


def _escalation_recipients(*, lead: Lead, level: int) -> list[tuple[User, str]]:
    """Who hears of `lead` reaching `level`, and with which kind of email."""
    escalated = StaffNotification.Kind.ESCALATED
    if level == Lead.Escalation.OVERDUE:
        if lead.owner is not None and lead.owner.is_active:
            return [(lead.owner, StaffNotification.Kind.OVERDUE)]
        users = lead_coordinator_list(location=lead.location)
    elif level == Lead.Escalation.LEAD_COORDINATOR:
        users = lead_coordinator_list(location=lead.location)
    else:
        users = _clinic_admins(lead.location)
    return [(user, escalated) for user in users]


def _clinic_admins(location: Location) -> QuerySet[User]:
    """Clinic admins of the location, and those given no locations (all of them)."""
    return (
        User.objects.filter(
            is_active=True, staff_member__role=StaffMember.Role.CLINIC_ADMIN
        )
        .filter(
            Q(staff_member__locations=location)
            | Q(staff_member__locations__isnull=True)
        )
        .distinct()
        .order_by("pk")
    )

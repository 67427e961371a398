"""Follow-up messages: made from the lead's timeline in its transaction, sent
through the outbox, stopped for whoever asked.

`followups_events_receive` runs inside the transaction that writes the timeline
events (leads.hooks.lead_events_recorded): the messages commit with the event or
not at all, and the ones due at once are handed to a worker after the commit, on
the "now" queue. The rest wait in the database, picked by the due sweep when their
time comes and sent in batches from the "bulk" queue, over one SMTP connection each.
"""

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from booking.hooks import BookingChanged
from booking.ics import booking_invitation_ics
from booking.models import Booking, MaintenanceDue
from booking.selectors import booking_option_list
from clinics.selectors import clinic_branding_get
from core.config_cache import config_cached
from core.errors import BusinessError
from core.models import DeliveryStatus
from core.outbox import (
    MAIL_ERRORS,
    BatchSent,
    NoLongerWanted,
    RetryPolicy,
    Unsendable,
    outbox_due,
    outbox_send,
    outbox_send_batch,
)
from core.queueing import (
    enqueue_batches,
    enqueue_batches_on_commit,
    enqueue_on_commit,
)
from core.zones import clinic_zone
from followups.models import (
    Category,
    Enrollment,
    FollowUpMessage,
    MessageTemplate,
    Sequence,
    Step,
    Suppression,
    Trigger,
)
from followups.rendering import template_render
from followups.selectors import followup_values, message_language
from followups.tasks import followup_message_send_task, followup_messages_send_task
from followups.unsubscribe import unsubscribe_url
from leads.hooks import LeadEventsRecorded
from leads.models import Lead, LeadEvent
from leads.selectors import lead_treatment_outcomes
from leads.services.deliverability import lead_email_undeliverable_record

logger = logging.getLogger(__name__)
POLICY = RetryPolicy(lease=dt.timedelta(seconds=settings.FOLLOWUP_SEND_LEASE_SECONDS))
SCHEDULE_BATCH = 500
# At most this many messages due at once go one task each ("now"); more (an
# import, a bulk change) go in batches like the sweep's, not ahead of the next patient.
AT_ONCE_ALONE = 5
# The most ids one due sweep hands out: more than a worker sends in its minute.
SWEEP_LIMIT = 20_000
# A sweep hands out at least this many batches when it has that many messages.
SWEEP_SPREAD = 8
# No marketing from 21:00 to 09:00 in the person's time zone (their location's).
QUIET_FROM, QUIET_UNTIL = 21, 9
# Leads that are not pursued any more: "stops when lost" stops for them.
STOPPED_STATUSES = frozenset({Lead.Status.LOST, Lead.Status.DISQUALIFIED})


def trigger_of(event: LeadEvent) -> Trigger | None:
    """The trigger a timeline event is, if any."""
    if event.kind == LeadEvent.Kind.SUBMITTED:
        return Trigger.SUBMISSION_RECEIVED
    if event.kind == LeadEvent.Kind.PHYSICIAN_DECISION:
        cleared = event.data.get("decision") == "cleared"
        return Trigger.PHYSICIAN_CLEARED if cleared else Trigger.PHYSICIAN_DECLINED
    if event.kind == LeadEvent.Kind.STATUS_CHANGED and (
        event.data.get("to") == Lead.Status.LOST
    ):
        return Trigger.LEAD_LOST
    return None


def followups_events_receive(recorded: LeadEventsRecorded) -> None:
    """Start every active sequence that the events trigger, in the caller's
    transaction: its steps due at once become messages now, handed to a worker at
    commit; for its timed steps the lead is enrolled, and the scheduler goes on.

    A clearing's step already waiting to go to the lead is not made again: two
    treatments cleared a minute apart make one message, which names both. A
    physician's decision made again about the same treatment is not told again."""
    triggered = [
        (event, trigger, _occurrence(event))
        for event in recorded.events
        if (trigger := trigger_of(event)) is not None
    ]
    if not triggered:
        return
    sequences = _sequences_of({trigger for _event, trigger, _o in triggered})
    made = FollowUpMessage.objects.filter(
        lead_id__in={event.lead_id for event, _trigger, _o in triggered},
        step__sequence__in=sequences,
    )
    # (lead, step, occurrence) made already (a new event's occurrence is new), and
    # (lead, step) of a clearing's message waiting to go: asked only when it can be.
    repeatable = {o for _e, _t, o in triggered if not o.startswith("event:")}
    once = (
        set(
            made.filter(occurrence__in=repeatable).values_list(
                "lead_id", "step_id", "occurrence"
            )
        )
        if repeatable
        else set()
    )
    coalesced = (
        set(
            made.filter(
                status=DeliveryStatus.PENDING, step__sequence__trigger__in=COALESCED
            ).values_list("lead_id", "step_id")
        )
        if any(trigger in COALESCED for _e, trigger, _o in triggered)
        else set()
    )
    now = timezone.now()
    started = _Started()
    for event, trigger, occurrence in triggered:
        lead_id = event.lead_id
        for sequence, steps in sequences.items():
            if sequence.trigger != trigger:
                continue
            started.add(
                sequence,
                steps,
                waiting={
                    step.pk
                    for step in steps
                    if (lead_id, step.pk, occurrence) in once
                    or (lead_id, step.pk) in coalesced
                },
                anchor=event.created_at,
                now=now,
                at_once=True,
                lead_id=lead_id,
                event=event,
                occurrence=occurrence,
            )
            once.update((lead_id, step.pk, occurrence) for step in steps)
            if trigger in COALESCED:
                coalesced.update((lead_id, step.pk) for step in steps)
    started.save()


# Triggers whose message tells where everything stands (not one event): one that
# waits to go already will tell a newer event too.
COALESCED = frozenset({Trigger.PHYSICIAN_CLEARED})


def _occurrence(event: LeadEvent) -> str:
    """What makes a message from `event` once: the event, or for a physician's
    decision the treatment and decision (the same decision again says nothing new)."""
    if event.kind == LeadEvent.Kind.PHYSICIAN_DECISION:
        return f"decision:{event.data.get('treatment')}:{event.data.get('decision')}"
    return f"event:{event.pk}"


# What each booking change triggers: the message about the change, and for a visit
# booked or moved, or a session attended, the steps that count from its start.
CHANGE_TRIGGERS = {
    "created": (Trigger.BOOKING_MADE, Trigger.VISIT_BOOKED),
    "rescheduled": (Trigger.BOOKING_RESCHEDULED, Trigger.VISIT_BOOKED),
    "cancelled": (Trigger.BOOKING_CANCELLED,),
    "attended": (Trigger.SESSION_ATTENDED,),
}
# Messages about a booking change: they carry the visit's calendar file, and go
# even to an address that unsubscribed from follow-ups (the person just asked for
# them), though never to one that bounces or complained.
BOOKING_TRIGGERS = frozenset(
    {Trigger.BOOKING_MADE, Trigger.BOOKING_RESCHEDULED, Trigger.BOOKING_CANCELLED}
)
# Messages the person asked for: they go even to an address that unsubscribed
# from follow-ups (never to one that bounces or complained).
ASKED_FOR = BOOKING_TRIGGERS | {Trigger.SENT_BY_STAFF}
# Sequences about one visit: "stops once booked" means another booking, not it.
ABOUT_A_VISIT = BOOKING_TRIGGERS | {Trigger.VISIT_BOOKED}


def followups_booking_changed(changed: BookingChanged) -> None:
    """A visit booked, moved, cancelled or attended, in its transaction: the
    message about the change is made at once; a moved or cancelled visit's
    reminders stop; a booked or moved one is enrolled in the visit sequences, an
    attended one in the session sequences, from the first step still to come."""
    booking, change = changed.booking, changed.change
    now = timezone.now()
    if change != "attended":
        enrollment_stop(
            enrollments=Enrollment.objects.filter(
                booking=booking, sequence__trigger=Trigger.VISIT_BOOKED
            ),
            because=f"visit {change}",
            now=now,
        )
        _maintenance_follow(booking, now=now)
    started = _Started()
    for sequence, steps in _sequences_of(set(CHANGE_TRIGGERS[change])).items():
        about_change = sequence.trigger in BOOKING_TRIGGERS
        started.add(
            sequence,
            steps,
            anchor=now if about_change else booking.starts_at,
            now=now,
            at_once=about_change,
            lead_id=booking.lead_id,
            booking=booking,
            occurrence=(
                f"attended:{booking.pk}"
                if change == "attended"
                else _booking_occurrence(booking)
            ),
        )
    started.save()


def _booking_occurrence(booking: Booking) -> str:
    # A moved visit starts its messages again, for the new time.
    return f"booking:{booking.pk}:{booking.sequence}"


def _sequences_of(triggers: set[str]) -> dict[Sequence, list[Step]]:
    """The active sequences of `triggers` with their steps in order (one query, or
    none from the configuration cache)."""
    by_sequence: dict[Sequence, list[Step]] = {}
    for step in config_cached("active sequence steps", _active_steps):
        if step.sequence.trigger in triggers:
            by_sequence.setdefault(step.sequence, []).append(step)
    return by_sequence


def _active_steps() -> list[Step]:
    active = Step.objects.filter(sequence__is_active=True)
    return list(active.select_related("sequence"))


class _Started:
    """The messages and enrollments sequences start with, saved together."""

    def __init__(self) -> None:
        self.messages: list[FollowUpMessage] = []
        self.enrollments: list[Enrollment] = []

    def add(
        self,
        sequence: Sequence,
        steps: list[Step],
        *,
        anchor: dt.datetime,
        now: dt.datetime,
        at_once: bool,
        waiting: Collection[int] = (),
        **fields: Any,
    ) -> None:
        """Start `sequence` (`fields`: lead_id, occurrence, event or booking): with
        `at_once`, its steps of no delay are messages now, but for those
        `waiting` to go already; the lead is enrolled for its first step still
        to come."""
        if at_once:
            self.messages.extend(
                FollowUpMessage(
                    step=step,
                    category=sequence.category,
                    next_attempt_at=now,
                    created_at=now,
                    **fields,
                )
                for step in steps
                if step.delay_minutes <= 0 and step.pk not in waiting
            )
        enrollment = _enrollment(sequence, steps, anchor=anchor, now=now, **fields)
        if enrollment is not None:
            self.enrollments.append(enrollment)

    def save(self) -> None:
        # An occurrence enrolls once (a decision made again enrolls no more).
        Enrollment.objects.bulk_create(self.enrollments, ignore_conflicts=True)
        made = [m.pk for m in FollowUpMessage.objects.bulk_create(self.messages)]
        followup_messages_enqueue(message_ids=made)


def followup_messages_enqueue(*, message_ids: list[int]) -> None:
    """Hand messages just made to workers when the transaction commits: a few
    (one event's) one task each on the "now" queue, many in batches on "bulk"."""
    if len(message_ids) <= AT_ONCE_ALONE:
        for message_id in message_ids:
            enqueue_on_commit(followup_message_send_task, message_id)
        return
    enqueue_batches_on_commit(
        followup_messages_send_task, message_ids, size=settings.FOLLOWUP_BATCH_SIZE
    )


def _enrollment(
    sequence: Sequence,
    steps: list[Step],
    *,
    anchor: dt.datetime,
    now: dt.datetime,
    **fields: Any,
) -> Enrollment | None:
    """An (unsaved) enrollment in `sequence` from its first step still to come
    (`anchor` plus its delay after `now`), or None when every step's time is past."""
    for position, step in enumerate(steps):
        due = anchor + dt.timedelta(minutes=step.delay_minutes)
        if due > now:
            return Enrollment(
                sequence=sequence,
                anchor_at=anchor,
                position=position,
                next_due_at=due,
                **fields,
            )
    return None


def _maintenance_follow(booking: Booking, *, now: dt.datetime) -> None:
    """Keep the maintenance reminders in step with the course's window (booking
    keeps MaintenanceDue so): a window that moved or went stops its reminders; a
    window that opened starts them, from its first day at 10:00 at the location."""
    first_id = booking.course_first_id
    if first_id is None:
        return
    due = MaintenanceDue.objects.filter(course_first_id=first_id).first()
    occurrence = f"maintenance:{first_id}:{due.due_from.isoformat()}" if due else ""
    enrollment_stop(
        enrollments=Enrollment.objects.filter(
            occurrence__startswith=f"maintenance:{first_id}:"
        ).exclude(occurrence=occurrence),
        because="maintenance window moved",
        now=now,
    )
    if due is None:
        return
    zone = clinic_zone(booking.location.time_zone)
    anchor = dt.datetime.combine(due.due_from, dt.time(10), tzinfo=zone)
    for sequence in Sequence.objects.filter(
        is_active=True, trigger=Trigger.MAINTENANCE_DUE
    ).prefetch_related("steps"):
        enrollment = _enrollment(
            sequence, list(sequence.steps.all()), anchor=anchor, now=now
        )
        # Each change to the course asks again: the same window enrolls once.
        if enrollment is not None:
            Enrollment.objects.get_or_create(
                lead_id=booking.lead_id,
                sequence=sequence,
                occurrence=occurrence,
                defaults={
                    "booking_id": first_id,
                    "anchor_at": enrollment.anchor_at,
                    "position": enrollment.position,
                    "next_due_at": enrollment.next_due_at,
                },
            )


def followup_schedule_due(
    *, now: dt.datetime | None = None, batch: int = SCHEDULE_BATCH
) -> int:
    """Take the enrollments whose next step is due, a batch at a time in one
    transaction (SELECT ... FOR UPDATE SKIP LOCKED: another scheduler running at
    once takes others), and for each: stop it when its sequence says, or make the
    step's message (once: its unique key) and set the next step's time. How many
    messages it made; their sends go to a worker at commit."""
    now = now or timezone.now()
    made = 0
    with transaction.atomic():
        due = list(
            Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(finished_at__isnull=True, next_due_at__lte=now)
            .select_related(
                "lead__location",
                "sequence",
                "event__submission",
                "booking__appointment_type",
            )
            .annotate(
                # An appointment after the sequence's start: what "booked" stops.
                booked=Exists(
                    Booking.objects.filter(
                        lead_id=OuterRef("lead_id"),
                        status=Booking.Status.CONFIRMED,
                        starts_at__gt=OuterRef("anchor_at"),
                    )
                )
            )
            .order_by("next_due_at", "pk")[:batch]
        )
        context = _Batch.of(due, now=now)
        for enrollment in due:
            made += _advance(enrollment, context, now=now)
        # Timed messages are the sweep's kind of work: batches on "bulk".
        enqueue_batches_on_commit(
            followup_messages_send_task,
            context.made,
            size=settings.FOLLOWUP_BATCH_SIZE,
        )
    return made


@dataclass
class _Batch:
    """What the scheduler reads once for a batch of due enrollments: their steps,
    the addresses that asked to stop, and the timed messages each lead had in the
    last day (counted on as the batch makes more)."""

    steps: dict[int, list[Step]]
    stopped: dict[str, Suppression]
    sent_today: Counter[int]
    # The messages made, handed to workers at commit.
    made: list[int]

    @classmethod
    def of(cls, due: Collection[Enrollment], *, now: dt.datetime) -> "_Batch":
        steps: dict[int, list[Step]] = {e.sequence_id: [] for e in due}
        for step in Step.objects.filter(sequence_id__in=steps):
            steps[step.sequence_id].append(step)
        keys = {e.lead.email_key for e in due if e.lead.email_key}
        sent_today = Counter(
            dict(
                FollowUpMessage.objects.filter(
                    lead_id__in={e.lead_id for e in due},
                    occurrence__startswith="enrollment:",
                    created_at__gt=now - dt.timedelta(days=1),
                    created_at__lte=now,
                )
                .values("lead_id")
                .annotate(count=Count("pk"))
                .values_list("lead_id", "count")
            )
        )
        return cls(
            steps=steps,
            stopped={
                s.email_key: s for s in Suppression.objects.filter(email_key__in=keys)
            },
            sent_today=sent_today,
            made=[],
        )


def _advance(enrollment: Enrollment, batch: _Batch, *, now: dt.datetime) -> int:
    """One due enrollment: stopped, deferred, or its step's message made (1)."""
    steps = batch.steps[enrollment.sequence_id]
    stop = _stop_reason(
        enrollment, stopped=batch.stopped.get(enrollment.lead.email_key), now=now
    )
    if stop is None and enrollment.position >= len(steps):
        stop = "done"
    if stop is not None:
        enrollment.finished_at = now
        enrollment.stopped_because = stop
        enrollment.next_due_at = None
        enrollment.save(update_fields=["finished_at", "stopped_because", "next_due_at"])
        return 0
    later = _not_before(
        enrollment, sent_today=batch.sent_today[enrollment.lead_id], now=now
    )
    if later is not None:
        enrollment.next_due_at = later
        enrollment.save(update_fields=["next_due_at"])
        return 0
    # Steps whose successor is due too are past their moment: only the latest goes
    # (a scheduler that was down, or a visit booked at short notice).
    while (
        enrollment.position + 1 < len(steps)
        and _due_at(enrollment, steps[enrollment.position + 1]) <= now
    ):
        enrollment.position += 1
    step = steps[enrollment.position]
    message, created = FollowUpMessage.objects.get_or_create(
        lead_id=enrollment.lead_id,
        step=step,
        occurrence=f"enrollment:{enrollment.pk}",
        defaults={
            "event": enrollment.event,
            "booking": enrollment.booking,
            "category": enrollment.sequence.category,
            "created_at": now,  # the moment the cap counts; sent as soon as can be
        },
    )
    if created:
        batch.sent_today[enrollment.lead_id] += 1
        batch.made.append(message.pk)
    enrollment.position += 1
    if enrollment.position < len(steps):
        enrollment.next_due_at = _due_at(enrollment, steps[enrollment.position])
    else:
        enrollment.next_due_at = None
        enrollment.finished_at = now
        enrollment.stopped_because = "done"
    enrollment.save(
        update_fields=["position", "next_due_at", "finished_at", "stopped_because"]
    )
    return int(created)


def _due_at(enrollment: Enrollment, step: Step) -> dt.datetime:
    return enrollment.anchor_at + dt.timedelta(minutes=step.delay_minutes)


def _stop_reason(
    enrollment: Enrollment, *, stopped: Suppression | None, now: dt.datetime
) -> str | None:
    """Why the sequence stops for this lead now, or None: it goes on (`stopped`:
    what the lead's address asked to stop, if anything)."""
    sequence, lead = enrollment.sequence, enrollment.lead
    if not sequence.is_active:
        return "sequence switched off"
    if lead.merged_into_id is not None:
        return "merged"
    visit = enrollment.booking
    if visit is not None and visit.status != Booking.Status.CONFIRMED:
        return "visit cancelled"
    if (
        sequence.stop_when_booked
        and sequence.trigger not in ABOUT_A_VISIT
        and getattr(enrollment, "booked", False)
    ):
        return "booked"
    if (
        sequence.stop_when_lost
        and sequence.trigger != Trigger.LEAD_LOST
        and lead.status in STOPPED_STATUSES
    ):
        return "lost"
    unmet = _conditions_unmet(
        sequence, lead, event=enrollment.event, visit=visit, stopped=stopped
    )
    if unmet is not None:
        return unmet
    if sequence.only_if_bookable and not booking_option_list(lead=lead, now=now):
        return "nothing to book online"
    return None


def _conditions_unmet(
    sequence: Sequence,
    lead: Lead,
    *,
    event: LeadEvent | None,
    visit: Booking | None,
    stopped: Suppression | None,
) -> str | None:
    """Which of the sequence's conditions the lead does not meet now (language,
    status, screening outcome, course, marketing consent), or that the address
    asked to stop (`stopped`); None when it may have the sequence's messages."""
    marketing = sequence.category == Category.MARKETING
    if sequence.only_language and message_language(lead) != sequence.only_language:
        return "another language"
    if sequence.only_status and lead.status != sequence.only_status:
        return "another status"
    if sequence.only_outcome and not _has_outcome(lead, sequence.only_outcome):
        return "another screening outcome"
    if sequence.only_mid_course and not _mid_course(visit):
        return "no session to come"
    submission = event.submission if event else None
    if marketing and not (submission and submission.consent_marketing):
        return "no marketing consent"
    if stopped and (stopped.scope == Suppression.Scope.ALL or marketing):
        asked_for = (
            sequence.trigger in ASKED_FOR
            and stopped.reason == Suppression.Reason.UNSUBSCRIBED
        )
        if not asked_for:
            return f"asked to stop ({stopped.reason})"
    return None


def _mid_course(visit: Booking | None) -> bool:
    """Whether `visit` is a course's session with sessions after it."""
    return (
        visit is not None
        and visit.course_first_id is not None
        and visit.session_number < visit.appointment_type.course_sessions
    )


def _not_before(
    enrollment: Enrollment, *, sent_today: int, now: dt.datetime
) -> dt.datetime | None:
    """A later time for the step, or None to send now: marketing waits out the
    person's quiet hours, and no lead gets more than the cap of timed messages a
    day (`sent_today`: how many it had in the last 24 hours)."""
    if enrollment.sequence.category == Category.MARKETING:
        location = enrollment.lead.location
        zone = clinic_zone(location.time_zone if location else settings.TIME_ZONE)
        local = now.astimezone(zone)
        if not QUIET_UNTIL <= local.hour < QUIET_FROM:
            morning = local.date() + dt.timedelta(days=int(local.hour >= QUIET_FROM))
            return dt.datetime.combine(morning, dt.time(QUIET_UNTIL), tzinfo=zone)
    if sent_today >= settings.FOLLOWUP_DAILY_CAP:
        return now + dt.timedelta(hours=1)
    return None


def _has_outcome(lead: Lead, outcome: str) -> bool:
    """Whether a treatment the person asked about has `outcome` now."""
    return any(
        standing.outcome == outcome
        for standing in lead_treatment_outcomes(lead=lead).values()
    )


# What a message's row is read with: everything its email says.
SEND_RELATED = (
    "lead__location",
    "step__sequence",
    "event__submission",
    "booking__appointment_type",
    "booking__location",
    "booking__practitioner",
)


def followup_message_send(*, message_id: int) -> bool:
    """Send one due message; whether this call delivered it (at least once, never
    concurrently: core.outbox)."""

    def send(message: FollowUpMessage) -> None:
        _send(message, shared=_Shared.of([message]), connection=None)

    message = outbox_send(
        FollowUpMessage,
        pk=message_id,
        send=send,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=SEND_RELATED,
        record=("message_id", "provider_message_id"),
    )
    return message is not None and message.status == DeliveryStatus.SENT


def followup_messages_send(*, message_ids: list[int]) -> BatchSent:
    """Send the due ones of `message_ids` over one mail connection, each recorded
    before the next goes (at least once, never concurrently: core.outbox); what
    the batch's time (FOLLOWUP_BATCH_SECONDS) left unsent goes back to the broker
    as a batch of its own. Safe to run twice: a sent or claimed message is not
    sent again."""
    done = outbox_send_batch(
        FollowUpMessage,
        pks=message_ids,
        sender=_batch_sender,
        transient=MAIL_ERRORS,
        policy=POLICY,
        related=SEND_RELATED,
        record=("message_id", "provider_message_id"),
        seconds=settings.FOLLOWUP_BATCH_SECONDS,
    )
    # Behind the queue's other batches, and any acknowledgment that came meanwhile.
    enqueue_batches_on_commit(
        followup_messages_send_task, done.left, size=len(done.left) or 1
    )
    return done


def followup_send_due(*, now: dt.datetime | None = None) -> int:
    """Hand the broker the messages that are due, in batches of at most
    FOLLOWUP_BATCH_SIZE ids (one task each, on the "bulk" queue); how many."""
    due = outbox_due(
        FollowUpMessage, policy=POLICY, now=now or timezone.now(), batch=SWEEP_LIMIT
    )
    # A short backlog is spread over a few batches, for the pool's processes (and
    # the other workers) to send side by side; a long one goes FOLLOWUP_BATCH_SIZE
    # at a time.
    size = max(1, min(settings.FOLLOWUP_BATCH_SIZE, -(-len(due) // SWEEP_SPREAD)))
    enqueue_batches(followup_messages_send_task, due, size=size)
    return len(due)


@dataclass(frozen=True)
class _Shared:
    """What the messages of a batch read once: their templates by (name, language),
    what their addresses asked to stop, and the clinic's name."""

    templates: dict[tuple[str, str], MessageTemplate]
    stopped: dict[str, Suppression]
    clinic_name: str

    @classmethod
    def of(cls, messages: Collection[FollowUpMessage]) -> "_Shared":
        languages = {message_language(m.lead) for m in messages} | {"en"}
        keys = {m.lead.email_key for m in messages if m.lead.email_key}
        return cls(
            templates={
                (t.key, t.language): t
                for t in MessageTemplate.objects.filter(
                    key__in={m.step.template_key for m in messages},
                    language__in=languages,
                )
            },
            stopped=(
                {s.email_key: s for s in Suppression.objects.filter(email_key__in=keys)}
                if keys
                else {}
            ),
            clinic_name=clinic_branding_get().name,
        )


@contextmanager
def _batch_sender(
    messages: list[FollowUpMessage],
) -> Iterator[Callable[[FollowUpMessage], None]]:
    """The send for a batch: one mail connection, opened at the first message (and
    again after a failure closed it), closed at the end."""
    connection = get_connection()
    try:
        yield partial(_send, shared=_Shared.of(messages), connection=connection)
    finally:
        with suppress(*MAIL_ERRORS):
            connection.close()


def _send(
    message: FollowUpMessage,
    *,
    shared: "_Shared",
    connection: BaseEmailBackend | None,
) -> None:
    lead = message.lead
    if not lead.email:
        raise Unsendable(f"lead {lead.pk} has no email address")
    _check_allowed(message, stopped=shared.stopped.get(lead.email_key))
    language = message_language(lead)
    key = message.step.template_key
    template = shared.templates.get((key, language)) or shared.templates.get(
        (key, "en")
    )
    if template is None:
        raise Unsendable(f"no template {key!r}")
    unsubscribe = unsubscribe_url(lead_code=lead.code, language=language)
    text_values, html_values = followup_values(
        message,
        language=language,
        unsubscribe=unsubscribe,
        clinic_name=shared.clinic_name,
    )
    # One Message-ID for every attempt, from the row alone (an attempt cut off after
    # the server took it never saved one): a receiver can drop the duplicate.
    message.message_id = f"<followup.{message.pk}@{settings.CALENDAR_UID_DOMAIN}>"
    email = EmailMultiAlternatives(
        subject=" ".join(template_render(template.subject, text_values).split()),
        body=template_render(template.text_body, text_values),
        to=[lead.email],
        headers={
            "Message-ID": message.message_id,
            # RFC 8058: mail apps offer "unsubscribe"; their POST needs no login.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        connection=connection,
    )
    email.attach_alternative(
        template_render(template.html_body, html_values, html_part=True), "text/html"
    )
    if message.booking and message.step.sequence.trigger in BOOKING_TRIGGERS:
        _calendar_attach(email, message.booking, language=language)
    try:
        if connection is not None:
            # Kept open across the batch (send_messages closes only what it opened).
            connection.open()
        email.send()
    except MAIL_ERRORS:
        # The connection may be half-way through a transaction: the next message
        # of the batch opens a fresh one.
        if connection is not None:
            with suppress(*MAIL_ERRORS):
                connection.close()
        raise
    # An Anymail backend says what the provider calls it; SMTP has our Message-ID.
    status = getattr(email, "anymail_status", None)
    provider_id = (status and status.message_id) or message.message_id
    message.provider_message_id = str(provider_id).strip("<>")


def _calendar_attach(
    email: EmailMultiAlternatives, visit: Booking, *, language: str
) -> None:
    """The visit as an .ics calendar apps import: the event, or its cancellation."""
    method = "CANCEL" if visit.status == Booking.Status.CANCELLED else "REQUEST"
    email.attach(
        "appointment.ics",
        booking_invitation_ics(visit, language=language, method=method),
        f"text/calendar; method={method}; charset=utf-8",
    )


def _check_allowed(message: FollowUpMessage, *, stopped: Suppression | None) -> None:
    """NoLongerWanted when the sequence's conditions no longer hold (see
    _conditions_unmet): checked again at the send, which may come later. A
    message about a booking change that a later change overtook is not sent: the
    later one's message tells the booking as it is."""
    visit = message.booking
    if (
        visit is not None
        and message.step.sequence.trigger in BOOKING_TRIGGERS
        and message.occurrence != _booking_occurrence(visit)
    ):
        raise NoLongerWanted("overtaken by a later change to the booking")
    unmet = _conditions_unmet(
        message.step.sequence,
        message.lead,
        event=message.event,
        visit=message.booking,
        stopped=stopped,
    )
    if unmet is not None:
        raise NoLongerWanted(unmet)


class LinkNotSent(BusinessError):
    code = "booking_link_not_sent"
    status_code = 409


# A second link within this time is refused: the first is on its way.
LINK_AGAIN_AFTER = dt.timedelta(minutes=10)


def booking_link_send(*, lead: Lead, now: dt.datetime | None = None) -> FollowUpMessage:
    """Email the person their link to choose a time (a coordinator on the phone
    with them), through the "sent by staff" sequence; LinkNotSent, saying why,
    when they have no address, nothing can be booked online for them, the clinic
    switched the email off, or one went in the last ten minutes."""
    now = now or timezone.now()
    step = (
        Step.objects.filter(
            sequence__trigger=Trigger.SENT_BY_STAFF, sequence__is_active=True
        )
        .select_related("sequence")
        .first()
    )
    if step is None:
        raise LinkNotSent(_("The clinic has switched this email off."))
    if not lead.email:
        raise LinkNotSent(_("This person has no email address."))
    if not booking_option_list(lead=lead, now=now):
        raise LinkNotSent(_("Nothing can be booked online for this person now."))
    with transaction.atomic():
        Lead.objects.select_for_update().filter(pk=lead.pk).first()  # one at a time
        if FollowUpMessage.objects.filter(
            lead=lead, step=step, created_at__gt=now - LINK_AGAIN_AFTER
        ).exists():
            raise LinkNotSent(_("A link went a few minutes ago: it is on its way."))
        message = FollowUpMessage.objects.create(
            lead=lead,
            step=step,
            event=LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.SUBMITTED)
            .order_by("-created_at", "-id")
            .first(),
            occurrence=f"staff:{now.isoformat()}",
            category=step.sequence.category,
            next_attempt_at=now,
            created_at=now,
        )
        enqueue_on_commit(followup_message_send_task, message.pk)
    return message


def enrollment_stop(
    *, enrollments: QuerySet[Enrollment], because: str, now: dt.datetime
) -> int:
    """Stop the unfinished ones of `enrollments`: no more steps; how many."""
    return enrollments.filter(finished_at__isnull=True).update(
        finished_at=now, next_due_at=None, stopped_because=because
    )


def suppression_set(*, email_key: str, scope: str | None) -> None:
    """Stop follow-ups to `email_key` (`scope`: marketing or all), or, with None,
    let them go again (the person changed their mind)."""
    if scope is None:
        Suppression.objects.filter(
            email_key=email_key, reason=Suppression.Reason.UNSUBSCRIBED
        ).delete()
        return
    Suppression.objects.update_or_create(
        email_key=email_key,
        defaults={
            "scope": scope,
            "reason": Suppression.Reason.UNSUBSCRIBED,
            "updated_at": timezone.now(),
        },
    )


# What a provider's tracking webhook says that stops email to an address.
UNDELIVERABLE = {
    "bounced": Suppression.Reason.BOUNCED,
    "complained": Suppression.Reason.COMPLAINED,
}


def email_event_receive(sender: object, event: Any, esp_name: str, **_: Any) -> None:
    """django-anymail's tracking signal, after it checked the webhook's secret and
    signature: a hard bounce or a spam complaint stops every follow-up to that
    address and shows on the person's leads."""
    reason = UNDELIVERABLE.get(event.event_type)
    if reason is None or not event.recipient:
        return
    with transaction.atomic():
        key = lead_email_undeliverable_record(email=event.recipient, reason=reason)
        if event.message_id:
            FollowUpMessage.objects.filter(
                provider_message_id=str(event.message_id).strip("<>"),
                bounced_at__isnull=True,
            ).update(bounced_at=timezone.now())
        Suppression.objects.update_or_create(
            email_key=key,
            defaults={
                "scope": Suppression.Scope.ALL,
                "reason": reason,
                "updated_at": timezone.now(),
            },
        )
    logger.info("email undeliverable (%s) reported by %s", reason, esp_name)

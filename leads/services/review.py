"""Physician review of a lead: clear or decline a treatment, or evaluate the answers
again under today's rules, then move the lead on.

These are the only doors that change a lead's screening outcomes: each records the
change on the newest submission's screening through intake, whose announcement moves
the lead's treatments (leads.services.handoff); the timeline, messages and tasks
follow here, all in one transaction.
"""

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from clinics.selectors import staff_is_physician
from core.errors import BusinessError
from intake.screening.results import Outcome
from intake.services.screening import screening_override_record, screening_reevaluate
from leads.hooks import LeadEventsRecorded, lead_events_recorded
from leads.models import Lead, LeadEvent, LeadTask
from leads.selectors import lead_coordinator_list
from leads.services.locks import lead_lock_open
from leads.services.notifications import staff_notification_queue
from leads.services.timeline import lead_transition

# How long a coordinator has to tell a patient about a declined treatment.
DECLINED_TASK_DUE = dt.timedelta(hours=24)


class PhysicianOnly(BusinessError):
    code = "physician_only"
    status_code = 403


class NothingToDecide(BusinessError):
    code = "nothing_to_decide"


def lead_review_decide(
    *, lead: Lead, treatment: str, decision: str, note: str, physician: User
) -> Lead:
    """A physician clears or declines one treatment the person asked about, on the
    newest submission's screening. Cleared: bookable for this lead. Declined: the
    person is told kindly by email and their coordinator gets a task to call. When
    nothing is left to review, a lead awaiting review moves to "qualified" if a
    treatment is bookable.
    """
    if not staff_is_physician(physician):
        raise PhysicianOnly("Only a physician can decide on a treatment.")
    with transaction.atomic():
        lead = lead_lock_open(lead)
        treatments = {t.treatment: t.outcome for t in lead.treatments.all()}
        if treatment not in treatments:
            raise NothingToDecide(
                "The person did not ask about this treatment.",
                fields={"treatment": ["Choose one of: " + ", ".join(treatments) + "."]},
            )
        submission_id = _newest_submission_id(lead)
        override = screening_override_record(
            submission_id=submission_id,
            treatment=treatment,
            decision=decision,
            note=note,
            physician=physician,
        )
        outcomes = _outcomes_now(lead)
        decided = LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.PHYSICIAN_DECISION,
            actor=physician,
            submission_id=submission_id,
            data={"treatment": treatment, "decision": decision},
        )
        lead_events_recorded.announce(LeadEventsRecorded((decided,)))
        if override.decision == override.Decision.DECLINED:
            _declined_task(lead, treatment)
        still_in_review = Outcome.REVIEW in outcomes.values()
        if (
            lead.status == Lead.Status.AWAITING_REVIEW
            and not still_in_review
            and Outcome.ELIGIBLE in outcomes.values()
        ):
            lead = lead_transition(
                lead=lead, to_status=Lead.Status.QUALIFIED, actor=physician
            )
    return lead


def lead_screening_reevaluate(*, lead: Lead, physician: User) -> Lead:
    """A physician has the lead's newest submission evaluated again under today's
    published rules (after the rules changed); the old result and its decisions are
    kept, unapplied. The lead's treatments follow and the timeline says what changed.
    """
    if not staff_is_physician(physician):
        raise PhysicianOnly("Only a physician can have the answers evaluated again.")
    with transaction.atomic():
        lead = lead_lock_open(lead)
        treatments = {t.treatment: t.outcome for t in lead.treatments.all()}
        submission_id = _newest_submission_id(lead)
        screening_reevaluate(submission_id=submission_id)
        outcomes = _outcomes_now(lead)
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.SCREENING_REEVALUATED,
            actor=physician,
            submission_id=submission_id,
            data={
                "changed": {
                    t: {"from": treatments[t], "to": outcomes[t]}
                    for t in treatments
                    if outcomes[t] != treatments[t]
                }
            },
        )
    return lead


def _newest_submission_id(lead: Lead) -> int:
    submission_id: int | None = (
        lead.events.filter(kind=LeadEvent.Kind.SUBMITTED, submission__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("submission_id", flat=True)
        .first()
    )
    if submission_id is None:
        raise NothingToDecide("This lead has no questionnaire to decide on.")
    return submission_id


def _outcomes_now(lead: Lead) -> dict[str, str]:
    """The lead's treatments as intake's announcement of the change left them."""
    return {t.treatment: t.outcome for t in lead.treatments.all()}


def _declined_task(lead: Lead, treatment: str) -> None:
    """Give their coordinator a task to call (the person is told kindly by email:
    a follow-up on the decision)."""
    title = (
        f"Call {lead.full_name}: {treatment.replace('_', ' ')} is not offered to "
        "them (they were told kindly by email). Talk through what they can do "
        "instead, or close the lead if nothing suits."
    )
    task = LeadTask.objects.create(
        lead=lead,
        assignee=lead.owner,
        title=title,
        due_at=timezone.now() + DECLINED_TASK_DUE,
    )
    LeadEvent.objects.create(
        lead=lead, kind=LeadEvent.Kind.TASK, data={"task": task.pk}, text=title
    )
    # Nobody owns the lead: its location's lead coordinators see that it is done.
    recipients = (
        [lead.owner] if lead.owner else lead_coordinator_list(location=lead.location)
    )
    for recipient in recipients:
        staff_notification_queue(recipient=recipient, lead=lead, kind="task")

"""A new submission joins or starts a lead; a changed screening moves its treatments.

Both arrive from intake through its hooks (intake/hooks.py), subscribed in
LeadsConfig.ready, inside intake's transaction: the lead is written with the
submission or not at all. The digests carry what leads needs, so nothing intake just
wrote is read again.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from core.request_scope import request_memo_put
from intake.hooks import ScreeningChanged, SubmissionRecorded
from leads.hooks import LeadEventsRecorded, lead_events_recorded
from leads.matching import names_agree
from leads.models import Lead, LeadEvent, LeadTreatment
from leads.pipeline import OPEN_STATUSES
from leads.scoring import Score, lead_score
from leads.selectors import (
    MEMO_LEAD_BIRTH_DATE,
    MEMO_LEAD_FOR_SUBMISSION,
    MEMO_LEAD_STARTED,
    MEMO_TREATMENT_STANDINGS,
    TreatmentStanding,
    lead_email_key,
)
from leads.services.assignment import (
    assigned_event,
    lead_owner_choose,
    lead_owner_set,
    owner_may_keep,
)
from leads.services.deadlines import first_contact_due_at
from leads.services.notifications import staff_notification_queue
from leads.webhooks.services import webhook_event_record


def lead_submission_receive(submission: SubmissionRecorded) -> Lead:
    """Hand a new submission to leads: it joins the person's open lead (same email
    key, or same phone and name) or starts one, scored, assigned and with its
    first-contact deadline. Runs inside the transaction that stores the submission,
    which intake announces once per submission.
    """
    key = lead_email_key(submission.email)
    _person_lock(f"lead-email:{key}", f"lead-phone:{submission.phone}")
    score = _score(submission)
    lead, maybe_same = _match(submission, key)
    is_new = lead is None
    now = timezone.now()
    events: list[LeadEvent] = []
    if lead is None:
        # Assigned as it is made: one INSERT with its owner, not an UPDATE after.
        lead = _lead_start(
            submission,
            key=key,
            score=score,
            maybe_same=maybe_same,
            treatments=submission.outcomes,
        )
        events.append(LeadEvent(lead=lead, kind=LeadEvent.Kind.CREATED, created_at=now))
        events.extend(_match_uncertain_events(lead, maybe_same, now=now))
    else:
        _lead_join(lead, submission, key=key, score=score)
    events.append(
        LeadEvent(
            lead=lead,
            kind=LeadEvent.Kind.SUBMITTED,
            submission_id=submission.submission_id,
            data={"score": score.total, "priority": score.priority},
            created_at=now,
        )
    )
    assigned = (
        [assigned_event(lead=lead, previous=None, actor=None)]
        if is_new and lead.owner is not None
        else []
    )
    LeadEvent.objects.bulk_create([*events, *assigned])
    lead_events_recorded.announce(LeadEventsRecorded(tuple(events)))
    lead_treatments_sync(
        lead=lead,
        outcomes=submission.outcomes,
        bookable_from=submission.bookable_from,
        is_new=is_new,
    )
    if assigned and lead.owner is not None:
        staff_notification_queue(recipient=lead.owner, lead=lead, kind="assigned")
    elif lead.owner_id is None and lead.first_contacted_at is None:
        owner = lead_owner_choose(lead=lead, treatments=submission.outcomes)
        if owner is not None:
            lead_owner_set(lead=lead, owner=owner, actor=None)
    if is_new:
        # After assignment, so that integrators see the owner too.
        webhook_event_record(event_type="lead.created", lead=lead)
    # The response's booking offer (leads.selectors: lead_for_submission and what
    # booking_gate reads) need not read again what was just written.
    request_memo_put((MEMO_LEAD_FOR_SUBMISSION, submission.submission_id), lead)
    if is_new:
        request_memo_put((MEMO_LEAD_STARTED, lead.pk), True)
        request_memo_put((MEMO_LEAD_BIRTH_DATE, lead.pk), submission.birth_date)
    return lead


def lead_treatments_follow(change: ScreeningChanged) -> None:
    """A submission's screening changed: the lead whose newest questionnaire it is
    takes the new outcomes for the treatments it has (an older questionnaire's
    result does not overrule a newer one)."""
    newest = (
        LeadEvent.objects.filter(
            kind=LeadEvent.Kind.SUBMITTED,
            lead__events__kind=LeadEvent.Kind.SUBMITTED,
            lead__events__submission_id=change.submission_id,
        )
        .order_by("-created_at", "-id")
        .select_related("lead")
        .first()
    )
    if newest is None or newest.submission_id != change.submission_id:
        return
    treatments = {t.treatment: t.outcome for t in newest.lead.treatments.all()}
    lead_treatments_sync(
        lead=newest.lead,
        outcomes={t: change.outcomes.get(t, o) for t, o in treatments.items()},
        bookable_from=change.bookable_from,
    )


def _person_lock(*keys: str) -> None:
    """Serialise concurrent submissions of one person until the transaction ends,
    so that two at once cannot both start a lead. SQLite serialises writes anyway."""
    if connection.vendor != "postgresql":
        return
    ordered = sorted(keys)  # one order everywhere: no deadlock between two people
    locks = ", ".join(["pg_advisory_xact_lock(hashtext(%s))"] * len(ordered))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {locks}", ordered)


def _open_leads() -> Any:
    return Lead.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True)


def _score(submission: SubmissionRecorded) -> Score:
    return lead_score(
        outcomes=submission.outcomes,
        not_sure=submission.not_sure,
        severity=submission.severity,
        duration=submission.concern_duration,
        timing=submission.treatment_timing,
        active_triggers=submission.active_triggers,
        completeness=submission.completeness,
    )


def lead_treatments_sync(
    *,
    lead: Lead,
    outcomes: Mapping[str, str],
    bookable_from: Mapping[str, dt.date],
    is_new: bool = False,
) -> None:
    """Make the lead's treatment rows say `outcomes` (wanted treatment -> outcome)
    and, for deferred ones, `bookable_from`; a treatment asked about earlier but
    not now is kept as it was."""
    existing = {} if is_new else {t.treatment: t for t in lead.treatments.all()}
    LeadTreatment.objects.bulk_create(
        LeadTreatment(
            lead=lead,
            treatment=treatment,
            outcome=outcome,
            bookable_from=bookable_from.get(treatment),
        )
        for treatment, outcome in outcomes.items()
        if treatment not in existing
    )
    for treatment, row in existing.items():
        if treatment not in outcomes:
            continue
        wanted = (outcomes[treatment], bookable_from.get(treatment))
        if (row.outcome, row.bookable_from) != wanted:
            row.outcome, row.bookable_from = wanted
            row.save(update_fields=["outcome", "bookable_from"])
    standings = {
        row.treatment: TreatmentStanding(row.outcome, row.bookable_from)
        for row in existing.values()
    }
    standings.update(
        (treatment, TreatmentStanding(outcome, bookable_from.get(treatment)))
        for treatment, outcome in outcomes.items()
    )
    # What the lead's treatment rows now say (leads.selectors.lead_treatment_outcomes).
    request_memo_put((MEMO_TREATMENT_STANDINGS, lead.pk), standings)


def _match(submission: SubmissionRecorded, key: str) -> tuple[Lead | None, Lead | None]:
    """(the open lead to join, or None; an open lead that may be the same person).

    The same email key is the same person; the same phone is only when the names
    agree, since a household or a clinic's front desk may share one phone. The
    candidates are locked (in id order, as merges lock) and read again after any
    change that was committed meanwhile, so a lead closed or merged a moment ago is
    not joined, and a join does not overwrite a coordinator's change.
    """
    candidates = sorted(
        _open_leads()
        .filter(Q(email_key=key) | Q(phone=submission.phone))
        .select_for_update(of=("self",))
        .select_related("owner")
        .order_by("id"),
        key=lambda lead: (lead.created_at, lead.pk),
    )
    by_email = [lead for lead in candidates if lead.email_key == key]
    if by_email:
        return by_email[0], None
    for lead in candidates:
        if names_agree(lead.full_name, submission.full_name):
            return lead, None
    return None, (candidates[0] if candidates else None)


def _lead_start(
    submission: SubmissionRecorded,
    *,
    key: str,
    score: Score,
    maybe_same: Lead | None,
    treatments: Collection[str],
) -> Lead:
    now = timezone.now()
    lead = Lead(
        location=submission.location,
        full_name=submission.full_name,
        email=submission.email,
        email_key=key,
        phone=submission.phone,
        preferred_language=submission.preferred_language,
        priority=score.priority,
        score=score.total,
        score_parts=[part.to_dict() for part in score.parts],
        first_contact_due_at=first_contact_due_at(
            location=submission.location, priority=score.priority, start=now
        ),
        match_uncertain_with=maybe_same,
        created_at=now,
        last_submitted_at=now,
    )
    lead.owner = lead_owner_choose(lead=lead, treatments=treatments)
    lead.save(force_insert=True)
    if maybe_same is not None:
        # Both are flagged, so whichever a coordinator opens first shows the question.
        Lead.objects.filter(pk=maybe_same.pk, match_uncertain_with__isnull=True).update(
            match_uncertain_with=lead
        )
    return lead


def _match_uncertain_events(
    lead: Lead, maybe_same: Lead | None, *, now: dt.datetime
) -> list[LeadEvent]:
    """ "Possible duplicate" on both timelines, each naming the other lead."""
    if maybe_same is None:
        return []
    return [
        LeadEvent(
            lead=one,
            kind=LeadEvent.Kind.MATCH_UNCERTAIN,
            data={"other_lead": str(other.code), "reason": "same phone, other name"},
            created_at=now,
        )
        for one, other in ((lead, maybe_same), (maybe_same, lead))
    ]


def _lead_join(
    lead: Lead, submission: SubmissionRecorded, *, key: str, score: Score
) -> None:
    """The person wrote again: newest contact details, location and score; an
    earlier deadline when the new priority is more urgent and nobody has called yet.
    An owner who does not work at the new location gives the lead back to the
    assignment rules. `lead` is locked."""
    now = timezone.now()
    moved = lead.location_id != submission.location.pk
    if moved and lead.owner and not owner_may_keep(lead.owner, submission.location.pk):
        lead_owner_set(lead=lead, owner=None, actor=None)
    lead.full_name = submission.full_name
    lead.email = submission.email
    lead.email_key = key
    lead.phone = submission.phone
    lead.preferred_language = submission.preferred_language
    lead.location = submission.location
    lead.score = score.total
    lead.score_parts = [part.to_dict() for part in score.parts]
    lead.priority = score.priority
    lead.last_submitted_at = now
    if lead.first_contacted_at is None:
        lead.first_contact_due_at = min(
            lead.first_contact_due_at,
            first_contact_due_at(
                location=submission.location, priority=score.priority, start=now
            ),
        )
    lead.save(
        update_fields=[
            "full_name", "email", "email_key", "phone", "preferred_language",
            "location", "score", "score_parts", "priority", "last_submitted_at",
            "first_contact_due_at", "updated_at",
        ]
    )  # fmt: skip

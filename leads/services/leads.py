"""Lead use cases: a submission joins or starts a lead; staff move, note and merge it.

Every change writes its timeline event in the same transaction; webhooks and emails
are written to the database there too and leave only after the commit.
"""

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import BusinessError
from intake.models import ScreeningResult, Submission
from intake.questionnaires.definition import CONTACT_LINK_IDS, item_is_enabled
from intake.screening.profiles import trigger_profile
from intake.selectors import (
    questionnaire_definition_get,
    screening_effective_outcomes,
)
from leads.matching import email_key, names_agree
from leads.models import Lead, LeadEvent, LeadTreatment, PatientMessage
from leads.pipeline import OPEN_STATUSES, next_statuses, transition_allowed
from leads.scoring import NOT_SURE, Score, lead_score
from leads.services.assignment import (
    lead_owner_choose,
    lead_owner_set,
    owner_may_keep,
)
from leads.services.deadlines import first_contact_due_at
from leads.services.locks import lead_lock_open
from leads.webhooks.services import webhook_event_record


class TransitionNotAllowed(BusinessError):
    code = "transition_not_allowed"


class LostReasonRequired(BusinessError):
    code = "lost_reason_required"


class MergeNotAllowed(BusinessError):
    code = "merge_not_allowed"


class CallOutcome:
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    ALL = (REACHED, NO_ANSWER, VOICEMAIL, WRONG_NUMBER)


def lead_email_key(email: str) -> str:
    """`email` as lead matching compares it, by the clinic's LEAD_EMAIL_MATCHING."""
    return email_key(email, matching=settings.LEAD_EMAIL_MATCHING)


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


def _wanted(answers: Mapping[str, Any]) -> list[str]:
    return [code for code in answers.get("treatments_wanted", []) if code != NOT_SURE]


def _completeness(submission: Submission, answers: Mapping[str, Any]) -> float:
    """The share of the health questions shown to the person that they answered."""
    definition = questionnaire_definition_get(submission.questionnaire_version)
    shown = [
        item.link_id
        for item in definition.items()
        if item.is_question
        and item.link_id not in CONTACT_LINK_IDS
        and item_is_enabled(item, answers)
    ]
    if not shown:
        return 1.0
    answered = [
        link_id for link_id in shown if answers.get(link_id) not in (None, "", [])
    ]
    return len(answered) / len(shown)


def _score(
    submission: Submission,
    answers: Mapping[str, Any],
    screening: ScreeningResult | None,
) -> tuple[Score, dict[str, str]]:
    effective = screening_effective_outcomes(submission, current=screening)
    # A wanted treatment the rules said nothing about waits for a physician.
    outcomes = {t: effective.get(t, "review") for t in _wanted(answers)}
    score = lead_score(
        answers=answers,
        outcomes=outcomes,
        active_triggers=trigger_profile(answers).active,
        completeness=_completeness(submission, answers),
    )
    return score, outcomes


def lead_treatments_sync(
    *, lead: Lead, outcomes: Mapping[str, str], is_new: bool = False
) -> None:
    """Make the lead's treatment rows say `outcomes` (wanted treatment -> outcome);
    a treatment asked about earlier but not now is kept with its last outcome."""
    existing = {} if is_new else {t.treatment: t for t in lead.treatments.all()}
    LeadTreatment.objects.bulk_create(
        LeadTreatment(lead=lead, treatment=treatment, outcome=outcome)
        for treatment, outcome in outcomes.items()
        if treatment not in existing
    )
    for treatment, row in existing.items():
        if treatment in outcomes and row.outcome != outcomes[treatment]:
            row.outcome = outcomes[treatment]
            row.save(update_fields=["outcome"])


def _match(submission: Submission, key: str) -> tuple[Lead | None, Lead | None]:
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


def lead_submission_add(
    *,
    submission: Submission,
    answers: Mapping[str, Any],
    screening: ScreeningResult | None,
) -> Lead:
    """Hand a new submission to leads: it joins the person's open lead (same email
    key, or same phone and name) or starts one, scored, assigned and with its
    first-contact deadline. Call inside the transaction that stores the submission;
    a submission already handed over changes nothing. `screening` is the result
    just recorded for it.
    """
    key = lead_email_key(submission.email)
    with transaction.atomic():
        _person_lock(f"lead-email:{key}", f"lead-phone:{submission.phone}")
        existing = (
            LeadEvent.objects.filter(
                submission=submission, kind=LeadEvent.Kind.SUBMITTED
            )
            .select_related("lead")
            .first()
        )
        if existing is not None:
            return existing.lead
        score, outcomes = _score(submission, answers, screening)
        lead, maybe_same = _match(submission, key)
        is_new = lead is None
        if lead is None:
            lead = _lead_start(submission, key=key, score=score, maybe_same=maybe_same)
        else:
            _lead_join(lead, submission, key=key, score=score)
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.SUBMITTED,
            submission=submission,
            data={"score": score.total, "priority": score.priority},
        )
        lead_treatments_sync(lead=lead, outcomes=outcomes, is_new=is_new)
        if lead.owner is None and lead.first_contacted_at is None:
            owner = lead_owner_choose(lead=lead, treatments=outcomes)
            if owner is not None:
                lead_owner_set(lead=lead, owner=owner, actor=None)
        if is_new:
            # After assignment, so that integrators see the owner too.
            webhook_event_record(event_type="lead.created", lead=lead)
    return lead


def _lead_start(
    submission: Submission, *, key: str, score: Score, maybe_same: Lead | None
) -> Lead:
    now = timezone.now()
    lead = Lead.objects.create(
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
    LeadEvent.objects.create(lead=lead, kind=LeadEvent.Kind.CREATED, created_at=now)
    if maybe_same is not None:
        # Both are flagged, so whichever a coordinator opens first shows the question.
        Lead.objects.filter(pk=maybe_same.pk, match_uncertain_with__isnull=True).update(
            match_uncertain_with=lead
        )
        for one, other in ((lead, maybe_same), (maybe_same, lead)):
            LeadEvent.objects.create(
                lead=one,
                kind=LeadEvent.Kind.MATCH_UNCERTAIN,
                data={
                    "other_lead": str(other.code),
                    "reason": "same phone, other name",
                },
            )
    return lead


def _lead_join(lead: Lead, submission: Submission, *, key: str, score: Score) -> None:
    """The person wrote again: newest contact details, location and score; an
    earlier deadline when the new priority is more urgent and nobody has called yet.
    An owner who does not work at the new location gives the lead back to the
    assignment rules. `lead` is locked."""
    now = timezone.now()
    moved = lead.location_id != submission.location_id
    if moved and lead.owner and not owner_may_keep(lead.owner, submission.location_id):
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


def lead_transition(
    *,
    lead: Lead,
    to_status: str,
    actor: User,
    lost_reason: str = "",
    note: str = "",
) -> Lead:
    """Move a lead along the pipeline (leads.pipeline says where it may go), on the
    timeline and to webhooks. "lost" needs a reason from Lead.LostReason."""
    with transaction.atomic():
        lead = lead_lock_open(lead)
        from_status = lead.status
        if not transition_allowed(from_status, to_status):
            allowed = next_statuses(from_status)
            raise TransitionNotAllowed(
                f"A lead that is “{lead.get_status_display()}” cannot move to "
                f"“{_status_label(to_status)}”.",
                fields={
                    "to_status": [
                        "Choose one of: " + ", ".join(allowed) + "."
                        if allowed
                        else "This lead is closed; it cannot move on."
                    ]
                },
            )
        if to_status == Lead.Status.LOST and lost_reason not in Lead.LostReason.values:
            raise LostReasonRequired(
                "Say why the lead was lost.",
                fields={
                    "lost_reason": [
                        "Choose one of: " + ", ".join(Lead.LostReason.values) + "."
                    ]
                },
            )
        now = timezone.now()
        lead.status = to_status
        lead.lost_reason = lost_reason if to_status == Lead.Status.LOST else ""
        lead.status_changed_at = now
        if to_status == Lead.Status.CONTACTED and lead.first_contacted_at is None:
            lead.first_contacted_at = now
        lead.save(
            update_fields=[
                "status", "lost_reason", "status_changed_at", "first_contacted_at",
                "updated_at",
            ]
        )  # fmt: skip
        data = {"from": from_status, "to": to_status}
        if lead.lost_reason:
            data["lost_reason"] = lead.lost_reason
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.STATUS_CHANGED,
            actor=actor,
            text=note.strip(),
            data=data,
            created_at=now,
        )
        webhook_event_record(
            event_type="lead.status_changed",
            lead=lead,
            data={"from": from_status, "to": to_status},
        )
    return lead


def _status_label(status: str) -> str:
    return str(dict(Lead.Status.choices).get(status, status))


def lead_note_add(*, lead: Lead, text: str, actor: User) -> LeadEvent:
    """Add a staff note to the lead's timeline."""
    if not text.strip():
        raise BusinessError(
            "A note needs some text.", fields={"text": ["Write the note."]}
        )
    with transaction.atomic():
        lead = lead_lock_open(lead)
        return LeadEvent.objects.create(
            lead=lead, kind=LeadEvent.Kind.NOTE, actor=actor, text=text.strip()
        )


def lead_call_log(*, lead: Lead, outcome: str, summary: str, actor: User) -> LeadEvent:
    """Record a call. Any call attempt meets the first-contact deadline; a call that
    reached a new lead also moves it to "contacted"."""
    if outcome not in CallOutcome.ALL:
        raise BusinessError(
            "Say how the call went.",
            fields={"outcome": ["Choose one of: " + ", ".join(CallOutcome.ALL) + "."]},
        )
    with transaction.atomic():
        lead = lead_lock_open(lead)
        event = LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.CALL,
            actor=actor,
            text=summary.strip(),
            data={"outcome": outcome},
        )
        if lead.first_contacted_at is None:
            lead.first_contacted_at = event.created_at
            lead.save(update_fields=["first_contacted_at", "updated_at"])
        if outcome == CallOutcome.REACHED and lead.status == Lead.Status.NEW:
            lead_transition(lead=lead, to_status=Lead.Status.CONTACTED, actor=actor)
    return event


def _treatments_merge(lead: Lead, duplicate: Lead) -> None:
    """Every treatment of both; where both have one, the outcome of the lead the
    person wrote to last (a physician's newer decision included)."""
    own = {t.treatment: t for t in lead.treatments.all()}
    duplicate.treatments.exclude(treatment__in=own).update(lead=lead)
    if duplicate.last_submitted_at <= lead.last_submitted_at:
        return
    for theirs in duplicate.treatments.filter(treatment__in=own):
        mine = own[theirs.treatment]
        if mine.outcome != theirs.outcome:
            mine.outcome = theirs.outcome
            mine.save(update_fields=["outcome"])


def lead_merge(*, lead: Lead, duplicate: Lead, actor: User) -> Lead:
    """Fold `duplicate` into `lead`: every submission, note, call, task and event of
    both stays, on `lead`'s timeline. The duplicate is kept, marked merged, hidden.
    `lead` must be open; either lead already merged into another: LeadMerged."""
    if lead.pk == duplicate.pk:
        raise MergeNotAllowed(
            "A lead cannot be merged into itself.",
            fields={"duplicate": ["Choose another lead."]},
        )
    with transaction.atomic():
        first, second = sorted([lead, duplicate], key=lambda one: one.pk)
        first, second = lead_lock_open(first), lead_lock_open(second)
        lead, duplicate = (first, second) if first.pk == lead.pk else (second, first)
        if lead.status not in OPEN_STATUSES:
            raise MergeNotAllowed(
                "This lead is closed: merging into it would hide an open enquiry.",
                fields={
                    "duplicate": ["Merge the other way round, into the open lead."]
                },
            )
        duplicate.events.update(lead=lead)
        duplicate.tasks.update(lead=lead)
        duplicate.notifications.update(lead=lead)
        sent = set(lead.patient_messages.values_list("kind", "topic"))
        for message in duplicate.patient_messages.all():
            if (message.kind, message.topic) not in sent:
                PatientMessage.objects.filter(pk=message.pk).update(lead=lead)
        _treatments_merge(lead, duplicate)
        Lead.objects.filter(match_uncertain_with__in=[lead.pk, duplicate.pk]).exclude(
            pk__in=[lead.pk, duplicate.pk]
        ).update(match_uncertain_with=lead)
        contacted = [
            t for t in (lead.first_contacted_at, duplicate.first_contacted_at) if t
        ]
        lead.first_contacted_at = min(contacted) if contacted else None
        lead.first_contact_due_at = min(
            lead.first_contact_due_at, duplicate.first_contact_due_at
        )
        lead.owner = lead.owner or duplicate.owner
        lead.created_at = min(lead.created_at, duplicate.created_at)
        lead.last_submitted_at = max(
            lead.last_submitted_at, duplicate.last_submitted_at
        )
        lead.match_uncertain_with = None
        lead.save()
        duplicate.merged_into = lead
        duplicate.match_uncertain_with = None
        duplicate.save(
            update_fields=["merged_into", "match_uncertain_with", "updated_at"]
        )
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.MERGED,
            actor=actor,
            data={"merged": str(duplicate.code), "merged_status": duplicate.status},
        )
    return lead

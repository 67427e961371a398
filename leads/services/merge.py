"""Two leads of one person become one, keeping everything both held."""

from django.contrib.auth.models import User
from django.db import transaction

from core.errors import BusinessError
from leads.models import Lead, LeadEvent
from leads.pipeline import OPEN_STATUSES
from leads.services.locks import lead_lock_open


class MergeNotAllowed(BusinessError):
    code = "merge_not_allowed"


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

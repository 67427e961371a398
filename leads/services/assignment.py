"""Who owns a lead: assignment rules for new leads, and reassignment by staff."""

from collections.abc import Collection

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Count, Exists, Q, QuerySet

from clinics.models import StaffMember
from core.config_cache import config_cached
from core.errors import BusinessError
from leads.models import AssignmentRule, Lead, LeadEvent
from leads.pipeline import OPEN_STATUSES
from leads.services.locks import lead_lock_open
from leads.services.notifications import staff_notification_queue


class AssignmentNotAllowed(BusinessError):
    code = "assign_not_allowed"
    status_code = 403


class OwnerNotEligible(BusinessError):
    code = "owner_not_eligible"


def _rule_matches(
    rule: AssignmentRule, lead: Lead, treatments: Collection[str]
) -> bool:
    return (
        (rule.location_id is None or rule.location_id == lead.location_id)
        and (not rule.language or rule.language == lead.preferred_language)
        and (not rule.treatment or rule.treatment in treatments)
    )


def _candidates(rule: AssignmentRule, lead: Lead) -> QuerySet[StaffMember]:
    """The rule's coordinators who are on duty and work at the lead's location."""
    listed = AssignmentRule.coordinators.through.objects.filter(assignmentrule=rule)
    # The listed coordinators, or every coordinator when none is listed: one query.
    members = StaffMember.objects.filter(
        Q(pk__in=listed.values("staffmember"))
        | (Q(role=StaffMember.Role.COORDINATOR) & ~Exists(listed))
    )
    return members.filter(
        is_on_duty=True, user__is_active=True, locations=lead.location_id
    ).order_by("id")


def _least_loaded(candidates: list[StaffMember]) -> StaffMember:
    """The candidate with the fewest open leads (the lowest id among equals)."""
    loads = dict(
        StaffMember.objects.filter(pk__in=[c.pk for c in candidates])
        .annotate(
            open_leads=Count(
                "user__owned_leads",
                filter=Q(
                    user__owned_leads__status__in=OPEN_STATUSES,
                    user__owned_leads__merged_into__isnull=True,
                ),
            )
        )
        .values_list("pk", "open_leads")
    )
    return min(candidates, key=lambda member: (loads[member.pk], member.pk))


def lead_owner_choose(*, lead: Lead, treatments: Collection[str]) -> User | None:
    """The owner the first matching rule with someone on duty gives; None leaves the
    lead in the unassigned queue. Call inside the transaction that saves the lead:
    a round-robin rule's row stays locked until it commits, so that two leads
    never take the same turn. The rules come from the configuration cache
    (core.config_cache)."""
    rules = config_cached(
        "active assignment rules",
        lambda: list(AssignmentRule.objects.filter(is_active=True)),
    )
    for rule in rules:
        if not _rule_matches(rule, lead, treatments):
            continue
        candidates = list(_candidates(rule, lead).select_related("user"))
        if not candidates:
            continue
        if rule.strategy == AssignmentRule.Strategy.LEAST_LOADED:
            return _least_loaded(candidates).user
        member = _turn_take(rule, candidates)
        if member is None:  # the rule was deleted since this request read the rules
            continue
        return member.user
    return None


def _turn_take(
    rule: AssignmentRule, candidates: list[StaffMember]
) -> StaffMember | None:
    """Round robin's turn: the first candidate after the rule's last assigned (by
    id, wrapping round), recorded as the rule's last assigned.

    One UPDATE, which locks the rule's row and reads its latest last_assigned
    (never the cached rule's, which may be stale): two leads never take the same
    turn. None when the rule is gone."""
    ids = [member.pk for member in candidates]  # in id order (_candidates)
    after = " ".join("WHEN COALESCE(last_assigned_id, 0) < %s THEN %s" for _ in ids)
    # Only placeholders are formatted in: one WHEN per candidate.
    turn = f"SET last_assigned_id = CASE {after} ELSE %s END "
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE leads_assignmentrule "
            + turn
            + "WHERE id = %s RETURNING last_assigned_id",
            [*(pk for pk in ids for _ in range(2)), ids[0], rule.pk],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return next(member for member in candidates if member.pk == row[0])


def _may_reassign(actor: User) -> bool:
    member = getattr(actor, "staff_member", None)
    return actor.is_superuser or (
        member is not None
        and (member.role == StaffMember.Role.CLINIC_ADMIN or member.is_lead_coordinator)
    )


def lead_owner_set(*, lead: Lead, owner: User | None, actor: User | None) -> None:
    """Give `lead` to `owner` (None: back to the unassigned queue), on the timeline,
    and tell the new owner unless they took it themselves. No permission check."""
    previous = lead.owner
    lead.owner = owner
    lead.save(update_fields=["owner", "updated_at"])
    assigned_event(lead=lead, previous=previous, actor=actor).save()
    if owner is not None and owner != actor:
        staff_notification_queue(recipient=owner, lead=lead, kind="assigned")


def assigned_event(
    *, lead: Lead, previous: User | None, actor: User | None
) -> LeadEvent:
    """The (unsaved) timeline entry of `lead` going from `previous` to its owner."""
    return LeadEvent(
        lead=lead,
        kind=LeadEvent.Kind.ASSIGNED,
        actor=actor,
        data={
            "from": previous.get_username() if previous else None,
            "to": lead.owner.get_username() if lead.owner else None,
        },
    )


def lead_assign(*, lead: Lead, owner: User | None, actor: User) -> Lead:
    """Reassign a lead: lead coordinators and clinic admins may give any lead to a
    coordinator of its location; a coordinator may take an unassigned lead."""
    with transaction.atomic():
        lead = lead_lock_open(lead)
        taking_unassigned = lead.owner_id is None and owner == actor
        if not (_may_reassign(actor) or taking_unassigned):
            raise AssignmentNotAllowed(
                "Only a lead coordinator or a clinic admin can reassign leads; you "
                "can take a lead from the unassigned queue."
            )
        _owner_check(lead, owner)
        if owner != lead.owner:
            lead_owner_set(lead=lead, owner=owner, actor=actor)
    return lead


def owner_may_keep(owner: User, location_id: int) -> bool:
    """True when `owner` is an active coordinator of the location: who may own its
    leads."""
    return (
        owner.is_active
        and StaffMember.objects.filter(
            user=owner, role=StaffMember.Role.COORDINATOR, locations=location_id
        ).exists()
    )


def _owner_check(lead: Lead, owner: User | None) -> None:
    if owner is not None and not owner_may_keep(owner, lead.location_id):
        raise OwnerNotEligible(
            "This person cannot own the lead.",
            fields={"owner": ["Choose an active coordinator of the lead's location."]},
        )

"""A person's rights over their data, for the lead that is them: a copy of all of
it, and its erasure. Every app's part comes from its holder (core.privacy); the
lead's own part is here."""

import datetime as dt
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from clinics.models import StaffMember
from clinics.selectors import clinic_branding_get, staff_role_get
from core.dates import months_after
from core.errors import BusinessError
from core.models import DeliveryStatus
from core.privacy import Holder, Person, personal_data_holders
from leads.models import (
    Lead,
    LeadEvent,
    LeadTask,
    PersonalDataErasure,
    PrivacyRequest,
    WebhookDelivery,
)
from leads.pipeline import OPEN_STATUSES
from leads.services.locks import lead_lock_open

Reason = PersonalDataErasure.Reason
# A lead with an appointment to come or a course under way is being heard from.
IN_CARE = (Lead.Status.BOOKED, Lead.Status.IN_TREATMENT)
ERASED_TASK_TITLE = "(erased)"


class PrivacyRequestRefused(BusinessError):
    code = "permission_denied"
    status_code = 403


def lead_person(lead: Lead) -> Person:
    """The rows that are this person's: the lead, those merged into it, their
    submissions and every email address they used."""
    lead_ids = (
        lead.pk,
        *Lead.objects.filter(merged_into=lead).values_list("pk", flat=True),
    )
    submitted = LeadEvent.objects.filter(
        lead_id__in=lead_ids, kind=LeadEvent.Kind.SUBMITTED, submission__isnull=False
    )
    emails = {
        lead.email,
        *Lead.objects.filter(pk__in=lead_ids).values_list("email", flat=True),
    }
    return Person(
        lead_ids=tuple(lead_ids),
        submission_ids=tuple(submitted.values_list("submission_id", flat=True)),
        emails=tuple(sorted(email for email in emails if email)),
    )


def lead_personal_data_export(*, lead: Lead, user: User) -> dict[str, Any]:
    """Everything held about the lead's person, by app, as JSON-safe values; the
    health answers read are audited. For clinic admins only."""
    _clinic_admin(user)
    person = lead_person(lead)
    return {
        "reference": lead.reference,
        "exported_at": timezone.now().isoformat(),
        **{
            holder.name: holder.export(person, user)
            for holder in personal_data_holders()
        },
    }


def lead_personal_data_erase(
    *, lead: Lead, reason: str, user: User | None, now: dt.datetime | None = None
) -> PersonalDataErasure:
    """Erase the person's data everywhere, keep what is counted, and record it.
    A person (request, consent withdrawn) needs a clinic admin; the retention task
    erases as nobody (`user` None)."""
    if user is not None:
        _clinic_admin(user)
    now = now or timezone.now()
    with transaction.atomic():
        lead = lead_lock_open(lead)
        person = lead_person(lead)
        changed = {
            holder.name: holder.erase(person) for holder in personal_data_holders()
        }
        erasure = PersonalDataErasure.objects.create(
            lead=lead, reason=reason, erased_by=user, erased_at=now, changed=changed
        )
        PrivacyRequest.objects.filter(lead=lead, handled_at__isnull=True).update(
            handled_at=now, handled_by=user
        )
        LeadEvent.objects.create(
            lead=lead,
            kind=LeadEvent.Kind.ERASED,
            actor=user,
            data={"reason": reason},
            created_at=now,
        )
    return erasure


def _clinic_admin(user: User) -> None:
    if staff_role_get(user) != StaffMember.Role.CLINIC_ADMIN:
        raise PrivacyRequestRefused(
            "A clinic admin handles requests about a person's data."
        )


def _leads_export(person: Person, user: User) -> dict[str, Any]:
    leads = Lead.objects.filter(pk__in=person.lead_ids).select_related(
        "location", "owner"
    )
    events = LeadEvent.objects.filter(lead_id__in=person.lead_ids).order_by(
        "created_at", "pk"
    )
    return {
        "leads": [
            {
                "reference": lead.reference,
                "full_name": lead.full_name,
                "email": lead.email,
                "phone": lead.phone,
                "preferred_language": lead.preferred_language,
                "location": lead.location.name,
                "status": lead.status,
                "created_at": lead.created_at.isoformat(),
            }
            for lead in leads
        ],
        "timeline": [
            {"kind": event.kind, "at": event.created_at.isoformat(), "text": event.text}
            for event in events
        ],
    }


def _leads_erase(person: Person) -> dict[str, int]:
    leads = Lead.objects.filter(pk__in=person.lead_ids)
    # A lead in care keeps its status: the appointment stays until cancelled.
    leads.filter(status__in=OPEN_STATUSES).exclude(status__in=IN_CARE).update(
        status=Lead.Status.LOST, lost_reason=Lead.LostReason.ERASED
    )
    # The admin's history names a lead it changed by str(lead): the name.
    history = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id__in=[str(pk) for pk in person.lead_ids],
    )
    return {
        "admin history": history.update(object_repr=""),
        "leads": leads.update(full_name="", email="", email_key="", phone=""),
        "notes and call summaries": LeadEvent.objects.filter(
            lead_id__in=person.lead_ids
        )
        .exclude(text="")
        .update(text=""),
        "tasks": LeadTask.objects.filter(lead_id__in=person.lead_ids).update(
            title=ERASED_TASK_TITLE
        ),
        "webhook deliveries not sent": WebhookDelivery.objects.filter(
            lead_id__in=person.lead_ids, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.SKIPPED),
        "webhook deliveries": WebhookDelivery.objects.filter(
            lead_id__in=person.lead_ids
        ).update(body={}),
    }


LEADS_HOLDER = Holder(name="leads", export=_leads_export, erase=_leads_erase)


def lead_retention_erase_due(
    *, now: dt.datetime | None = None, batch: int = 100
) -> int:
    """Erase, as nobody, the leads nobody has heard from or acted on for the
    clinic's retention_months: no submission or timeline event since, and not in
    care (booked or in treatment). At most `batch` a run (the periodic task runs
    again); how many."""
    now = now or timezone.now()
    months = clinic_branding_get().retention_months
    if not months:  # the clinic keeps data until it is asked to erase it
        return 0
    day = months_after(now.date(), -months)
    cutoff = now.replace(year=day.year, month=day.month, day=day.day)
    due = (
        Lead.objects.filter(last_submitted_at__lt=cutoff, merged_into__isnull=True)
        .exclude(status__in=IN_CARE)
        .exclude(erasures__isnull=False)
        .exclude(events__created_at__gte=cutoff)
        .order_by("last_submitted_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    erased = 0
    for lead in Lead.objects.filter(pk__in=list(due)):
        lead_personal_data_erase(lead=lead, reason=Reason.RETENTION, user=None, now=now)
        erased += 1
    return erased


def privacy_request_record(*, lead: Lead, kind: str) -> PrivacyRequest:
    """The person's request of `kind` (copy or erasure), open for the clinic
    admin; asking again while it is open is the same request."""
    with transaction.atomic():
        request, _created = PrivacyRequest.objects.get_or_create(
            lead=lead, kind=kind, handled_at__isnull=True
        )
    return request


def privacy_request_handle(*, request_id: int, lead: Lead, user: User) -> None:
    """Mark the lead's open request handled (the copy was sent) by `user`."""
    _clinic_admin(user)
    PrivacyRequest.objects.filter(
        pk=request_id, lead=lead, handled_at__isnull=True
    ).update(handled_at=timezone.now(), handled_by=user)


def lead_consent_withdraw(*, lead: Lead) -> PersonalDataErasure:
    """The person withdrew their consent: nothing of theirs is processed or sent
    from now on, so their data is erased at once (what is counted stays)."""
    existing = lead.erasures.first()
    if existing is not None:
        return existing
    return lead_personal_data_erase(
        lead=lead, reason=Reason.CONSENT_WITHDRAWN, user=None
    )

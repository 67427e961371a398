"""Staff logins, API clients and a large queue for the staff leads API tests."""

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from clinics.services import api_token_create
from leads.models import Lead, LeadEvent, LeadTask, LeadTreatment
from tests.support.factories import StaffMemberFactory

# How often each is asked about, and each outcome given: rare ones exist, as in life.
TREATMENTS = {
    "mesotherapy": 10,
    "laser_ipl": 6,
    "radiofrequency": 2,
    "prp": 1,
    "skincare": 1,
}
OUTCOMES = {"eligible": 12, "review": 5, "deferred": 2, "contraindicated": 1}


def staff(
    role: str = StaffMember.Role.COORDINATOR,
    *,
    locations: Sequence[Location] = (),
    lead_coordinator: bool = False,
    may_export: bool = False,
    **user_fields: Any,
) -> User:
    """A staff login with `role` at `locations`."""
    member = StaffMemberFactory.create(
        role=role,
        locations=list(locations),
        is_lead_coordinator=lead_coordinator,
        **{f"user__{key}": value for key, value in user_fields.items()},
    )
    if may_export:
        member.user.user_permissions.add(
            Permission.objects.get(
                content_type__app_label="leads", codename="export_lead"
            )
        )
    return member.user


def client_for(user: User) -> APIClient:
    """An API client signed in as `user` by session, as the staff browser is."""
    client = APIClient()
    client.force_login(user)
    return client


def api_key_for(user: User, *, name: str = "integration") -> str:
    """A new API key for `user`, made as the staff page makes one."""
    _token, key = api_token_create(user=user, name=name)
    return key


def leads_bulk_create(
    count: int,
    *,
    locations: Sequence[Location],
    owners: Sequence[User],
    seed: int = 7,
) -> None:
    """`count` leads spread over a year, locations, owners (a tenth unassigned),
    statuses and priorities, mostly contacted, each with one to three treatments;
    the first ten with a few timeline events and an open task. In bulk: seconds."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    now = timezone.now()
    statuses = [s for s in Lead.Status.values if s != Lead.Status.LOST]
    leads = []
    for n in range(count):
        created = now - dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        contacted = rng.random() < 0.9
        leads.append(
            Lead(
                location=locations[n % len(locations)],
                full_name=f"Patient {n:05d} Kaya",
                email=f"patient{n}@example.com",
                email_key=f"patient{n}@example.com",
                phone=f"+90532{n:07d}",
                preferred_language="tr",
                status=rng.choice(statuses),
                priority=rng.choice(Lead.Priority.values),
                score=rng.randrange(100),
                owner=None if rng.random() < 0.1 else rng.choice(owners),
                first_contact_due_at=created + dt.timedelta(hours=rng.randrange(48)),
                first_contacted_at=created + dt.timedelta(hours=1)
                if contacted
                else None,
                created_at=created,
                last_submitted_at=created,
            )
        )
    Lead.objects.bulk_create(leads, batch_size=2000)
    treatments = [
        LeadTreatment(
            lead=lead,
            treatment=treatment,
            outcome=rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0],
        )
        for lead in leads
        for treatment in dict.fromkeys(
            rng.choices(list(TREATMENTS), weights=list(TREATMENTS.values()), k=2)
        )
    ]
    LeadTreatment.objects.bulk_create(treatments, batch_size=5000)
    events = [
        LeadEvent(lead=lead, kind=kind, actor=owners[0], text="", created_at=when)
        for lead in leads[:10]
        for kind, when in (
            (LeadEvent.Kind.CREATED, lead.created_at),
            (LeadEvent.Kind.NOTE, lead.created_at + dt.timedelta(minutes=5)),
            (LeadEvent.Kind.CALL, lead.created_at + dt.timedelta(minutes=9)),
        )
    ]
    LeadEvent.objects.bulk_create(events)
    LeadTask.objects.bulk_create(
        LeadTask(lead=lead, assignee=owners[0], title="Call back", due_at=now)
        for lead in leads[:10]
    )

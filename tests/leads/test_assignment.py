"""New leads go to the coordinators the clinic's assignment rules choose."""

import pytest

from clinics.models import Location, StaffMember
from core.errors import BusinessError
from intake.models import QuestionnaireVersion
from leads.models import AssignmentRule, Lead, WebhookDelivery, WebhookEndpoint
from leads.services.assignment import lead_assign
from tests.support.factories import LocationFactory, StaffMemberFactory
from tests.support.submitting import lead_of, submit


def _people(count: int) -> list[str]:
    return [f"person{n}@example.com" for n in range(count)]


def _submit_people(version: QuestionnaireVersion, count: int) -> list[Lead]:
    return [
        lead_of(submit(version, email=email, phone=f"+9053212300{n:02d}",
                       full_name=f"Person {n}"))
        for n, email in enumerate(_people(count))
    ]  # fmt: skip


def test_round_robin_takes_turns_among_coordinators_on_duty(
    published: QuestionnaireVersion, location: Location
) -> None:
    deniz, emre, away = (
        StaffMemberFactory.create(locations=[location]) for _ in range(3)
    )
    away.is_on_duty = False
    away.save()
    AssignmentRule.objects.create(name="Everyone", location=location)

    owners = [lead.owner for lead in _submit_people(published, 4)]

    assert owners == [deniz.user, emre.user, deniz.user, emre.user]


def test_least_loaded_gives_the_lead_to_whoever_has_fewest_open_leads(
    published: QuestionnaireVersion, location: Location
) -> None:
    busy, free = (StaffMemberFactory.create(locations=[location]) for _ in range(2))
    rule = AssignmentRule.objects.create(
        name="Least loaded",
        strategy=AssignmentRule.Strategy.LEAST_LOADED,
    )
    rule.coordinators.set([busy, free])
    first = _submit_people(published, 1)[0]
    Lead.objects.filter(pk=first.pk).update(owner=busy.user)

    second = lead_of(submit(published, email="new@example.com", full_name="New One"))

    assert second.owner == free.user


def test_a_rule_for_another_language_or_location_does_not_apply(
    published: QuestionnaireVersion, location: Location
) -> None:
    elsewhere = LocationFactory.create(slug="kadikoy")
    english = StaffMemberFactory.create(locations=[location])
    rule = AssignmentRule.objects.create(name="English", language="en")
    rule.coordinators.set([english])
    AssignmentRule.objects.create(name="Kadıköy", location=elsewhere)
    StaffMemberFactory.create(locations=[elsewhere])

    lead = lead_of(submit(published, preferred_language="tr"))

    assert lead.owner is None  # the unassigned queue


def test_a_coordinator_takes_an_unassigned_lead_but_only_a_lead_coordinator_reassigns(
    published: QuestionnaireVersion, location: Location
) -> None:
    deniz, emre = (StaffMemberFactory.create(locations=[location]) for _ in range(2))
    chief = StaffMemberFactory.create(locations=[location], is_lead_coordinator=True)
    lead = _submit_people(published, 1)[0]

    lead_assign(lead=lead, owner=deniz.user, actor=deniz.user)
    with pytest.raises(BusinessError) as refused:
        lead_assign(lead=lead, owner=emre.user, actor=emre.user)
    lead_assign(lead=lead, owner=emre.user, actor=chief.user)

    assert refused.value.code == "assign_not_allowed"
    lead.refresh_from_db()
    assert lead.owner == emre.user
    assert [
        e.data["to"] for e in lead.events.filter(kind="assigned").order_by("id")
    ] == [
        deniz.user.username,
        emre.user.username,
    ]


def test_a_lead_goes_only_to_a_coordinator_of_its_location(
    published: QuestionnaireVersion, location: Location
) -> None:
    chief = StaffMemberFactory.create(locations=[location], is_lead_coordinator=True)
    elsewhere = StaffMemberFactory.create(
        locations=[LocationFactory.create(slug="kadikoy")]
    )
    physician = StaffMemberFactory.create(
        locations=[location], role=StaffMember.Role.PHYSICIAN
    )
    lead = _submit_people(published, 1)[0]

    for member in (elsewhere, physician):
        with pytest.raises(BusinessError) as refused:
            lead_assign(lead=lead, owner=member.user, actor=chief.user)
        assert refused.value.code == "owner_not_eligible"


def test_integrators_hear_of_a_new_lead_with_its_owner(
    published: QuestionnaireVersion, location: Location
) -> None:
    deniz = StaffMemberFactory.create(locations=[location])
    AssignmentRule.objects.create(name="Everyone", location=location)
    WebhookEndpoint.objects.create(
        name="CRM",
        url="https://crm.example/hooks",
        secret="s" * 32,
        event_types=["lead.created"],
    )

    lead = _submit_people(published, 1)[0]

    delivery = WebhookDelivery.objects.get(lead=lead)
    assert delivery.body["data"]["lead"]["owner"] == deniz.user.username


def test_a_person_who_now_chooses_another_location_gets_a_coordinator_there(
    published: QuestionnaireVersion, location: Location
) -> None:
    kadikoy = LocationFactory.create(slug="kadikoy")
    here = StaffMemberFactory.create(locations=[location])
    there = StaffMemberFactory.create(locations=[kadikoy])
    AssignmentRule.objects.create(name="Everyone")
    lead = lead_of(submit(published))
    assert lead.owner == here.user

    lead = lead_of(submit(published, location="kadikoy"))

    assert (lead.location, lead.owner) == (kadikoy, there.user)

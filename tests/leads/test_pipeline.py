"""Staff move leads along the pipeline; everything lands on the timeline."""

import pytest
from django.contrib.auth.models import User

from clinics.models import Location
from core.errors import BusinessError
from leads.models import Lead, LeadEvent
from leads.pipeline import ALLOWED_TRANSITIONS, OPEN_STATUSES
from leads.services.timeline import lead_call_log, lead_note_add, lead_transition
from tests.support.factories import LeadFactory, StaffUserFactory


@pytest.fixture
def coordinator(db: None) -> User:
    return StaffUserFactory.create(username="deniz")


def test_every_status_has_a_rule_and_closed_ones_lead_nowhere_but_back() -> None:
    assert list(ALLOWED_TRANSITIONS) == Lead.Status.values  # the same, in order
    assert ALLOWED_TRANSITIONS[Lead.Status.COMPLETED] == frozenset()
    assert ALLOWED_TRANSITIONS[Lead.Status.DISQUALIFIED] == frozenset()
    assert "lost" not in OPEN_STATUSES


def test_a_transition_the_pipeline_does_not_allow_is_refused_and_nothing_changes(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    with pytest.raises(BusinessError) as refused:
        lead_transition(lead=lead, to_status=Lead.Status.BOOKED, actor=coordinator)

    assert refused.value.code == "transition_not_allowed"
    assert "contacted" in refused.value.fields["to_status"][0]
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW
    assert not lead.events.filter(kind=LeadEvent.Kind.STATUS_CHANGED).exists()


def test_losing_a_lead_needs_a_reason_from_the_list(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    with pytest.raises(BusinessError) as refused:
        lead_transition(lead=lead, to_status=Lead.Status.LOST, actor=coordinator)
    assert refused.value.code == "lost_reason_required"

    lead_transition(
        lead=lead,
        to_status=Lead.Status.LOST,
        actor=coordinator,
        lost_reason=Lead.LostReason.UNREACHABLE,
    )
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason) == ("lost", "unreachable")


def test_each_change_is_on_the_timeline_with_who_and_when(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    lead_transition(
        lead=lead, to_status=Lead.Status.CONTACTED, actor=coordinator, note="Called"
    )
    lead_transition(lead=lead, to_status=Lead.Status.QUALIFIED, actor=coordinator)

    changes = list(
        lead.events.filter(kind=LeadEvent.Kind.STATUS_CHANGED).order_by("id")
    )
    assert [event.data for event in changes] == [
        {"from": "new", "to": "contacted"},
        {"from": "contacted", "to": "qualified"},
    ]
    assert {event.actor for event in changes} == {coordinator}
    assert changes[0].text == "Called"
    lead.refresh_from_db()
    assert lead.first_contacted_at == changes[0].created_at


def test_a_call_that_reaches_a_new_lead_meets_the_deadline_and_marks_it_contacted(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    call = lead_call_log(
        lead=lead, outcome="reached", summary="Wants Tuesday", actor=coordinator
    )

    lead.refresh_from_db()
    assert lead.first_contacted_at == call.created_at
    assert lead.status == Lead.Status.CONTACTED


def test_an_unanswered_call_still_counts_as_the_first_contact_attempt(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    lead_call_log(lead=lead, outcome="no_answer", summary="", actor=coordinator)

    lead.refresh_from_db()
    assert lead.first_contacted_at is not None
    assert lead.status == Lead.Status.NEW


def test_a_call_needs_an_outcome_and_a_note_needs_text(
    location: Location, coordinator: User
) -> None:
    lead = LeadFactory.create(location=location)

    with pytest.raises(BusinessError) as no_outcome:
        lead_call_log(lead=lead, outcome="fine", summary="", actor=coordinator)
    with pytest.raises(BusinessError) as no_text:
        lead_note_add(lead=lead, text="  ", actor=coordinator)

    assert "outcome" in no_outcome.value.fields
    assert "text" in no_text.value.fields
    assert not lead.events.exists()

"""A coordinator merges two leads of one person; nothing of either is lost."""

import pytest

from core.errors import BusinessError
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent, LeadTreatment
from leads.services.merge import lead_merge
from leads.services.timeline import lead_note_add, lead_transition
from tests.support.factories import StaffUserFactory
from tests.support.submitting import lead_of, submit


def test_a_merge_keeps_every_submission_note_and_event_of_both(
    published: QuestionnaireVersion,
) -> None:
    coordinator = StaffUserFactory.create()
    mother = submit(published, email="ayse@example.com", full_name="Ayşe Yılmaz")
    # Same phone, name written another way: flagged, not joined.
    other = submit(published, email="a.y@example.org", full_name="A. Yilmaz")
    keep, duplicate = lead_of(mother), lead_of(other)
    lead_note_add(lead=duplicate, text="Prefers mornings", actor=coordinator)
    events_before = LeadEvent.objects.filter(lead__in=[keep, duplicate]).count()

    merged = lead_merge(lead=keep, duplicate=duplicate, actor=coordinator)

    assert merged.events.count() == events_before + 1
    assert {e.submission for e in merged.events.filter(kind="submitted")} == {
        mother,
        other,
    }
    notes = merged.events.filter(kind="note").values_list("text", flat=True)
    assert "Prefers mornings" in notes
    assert merged.match_uncertain_with is None
    duplicate.refresh_from_db()
    assert duplicate.merged_into == merged


def test_a_lead_merged_once_cannot_be_merged_again(
    published: QuestionnaireVersion,
) -> None:
    coordinator = StaffUserFactory.create()
    first = lead_of(submit(published, email="one@example.com", full_name="Ayşe Kaya"))
    second = lead_of(submit(published, email="two@example.com", full_name="Elif Kaya"))
    lead_merge(lead=first, duplicate=second, actor=coordinator)

    with pytest.raises(BusinessError) as refused:
        lead_merge(lead=first, duplicate=second, actor=coordinator)
    with pytest.raises(BusinessError):
        lead_merge(lead=first, duplicate=first, actor=coordinator)

    assert refused.value.code == "lead_merged"
    assert Lead.objects.filter(merged_into__isnull=True).count() == 1


def test_an_open_enquiry_is_never_merged_into_a_closed_lead(
    published: QuestionnaireVersion,
) -> None:
    coordinator = StaffUserFactory.create()
    closed = lead_of(submit(published, email="one@example.com", full_name="Ayşe Kaya"))
    lead_transition(
        lead=closed,
        to_status=Lead.Status.LOST,
        actor=coordinator,
        lost_reason=Lead.LostReason.TIMING,
    )
    open_one = lead_of(
        submit(published, email="two@example.com", full_name="Ayşe Kaya")
    )

    with pytest.raises(BusinessError) as refused:
        lead_merge(lead=closed, duplicate=open_one, actor=coordinator)
    merged = lead_merge(lead=open_one, duplicate=closed, actor=coordinator)

    assert refused.value.code == "merge_not_allowed"
    assert merged.status == Lead.Status.NEW
    assert merged.events.filter(kind="submitted").count() == 2


def test_a_merge_keeps_the_newest_physician_decision_on_a_shared_treatment(
    published: QuestionnaireVersion,
) -> None:
    coordinator = StaffUserFactory.create()
    older = lead_of(submit(published, email="a@example.com", full_name="Ayşe Kaya"))
    newer = lead_of(submit(published, email="b@example.com", full_name="Elif Kaya"))
    LeadTreatment.objects.filter(lead=older).update(outcome="review")

    merged = lead_merge(lead=older, duplicate=newer, actor=coordinator)

    assert set(merged.treatments.values_list("outcome", flat=True)) == {"eligible"}

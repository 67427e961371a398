"""A coordinator merges two leads of one person; nothing of either is lost."""

import pytest

from core.errors import BusinessError
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent
from leads.services.leads import lead_merge, lead_note_add
from tests.factories import StaffUserFactory
from tests.leads.submitting import lead_of, submit


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
    assert merged.events.filter(kind="note", text="Prefers mornings").exists()
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

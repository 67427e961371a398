"""Physicians clear or decline treatments; the lead moves on."""

import pytest
from django.contrib.auth.models import User

from clinics.models import Location, StaffMember
from core.errors import BusinessError
from intake.models import QuestionnaireVersion, ScreeningOverride
from leads.models import Lead, LeadEvent, LeadTask, StaffNotification
from leads.services.review import lead_review_decide
from leads.services.timeline import lead_transition
from tests.support.factories import StaffMemberFactory
from tests.support.staff_api import client_for
from tests.support.submitting import lead_of, submit


@pytest.fixture
def physician(location: Location) -> User:
    member = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    )
    return member.user


@pytest.fixture
def coordinator(location: Location) -> User:
    return StaffMemberFactory.create(locations=[location]).user


def _awaiting_review(version: QuestionnaireVersion, coordinator: User) -> Lead:
    lead = lead_of(submit(version, blood_thinners=["aspirin"]))
    for status in (Lead.Status.CONTACTED, Lead.Status.AWAITING_REVIEW):
        lead = lead_transition(lead=lead, to_status=status, actor=coordinator)
    return lead


def test_clearing_every_reviewed_treatment_qualifies_the_lead(
    published: QuestionnaireVersion, physician: User, coordinator: User
) -> None:
    lead = _awaiting_review(published, coordinator)
    assert set(lead.treatments.values_list("outcome", flat=True)) == {"review"}

    for treatment in ("mesotherapy", "laser_ipl"):
        lead = lead_review_decide(
            lead=lead,
            treatment=treatment,
            decision="cleared",
            note="Aspirin only; fine with care.",
            physician=physician,
        )

    assert set(lead.treatments.values_list("outcome", flat=True)) == {"eligible"}
    assert lead.status == Lead.Status.QUALIFIED
    decisions = lead.events.filter(kind=LeadEvent.Kind.PHYSICIAN_DECISION)
    assert decisions.count() == 2
    assert ScreeningOverride.objects.filter(decided_by=physician).count() == 2


def test_a_declined_treatment_gives_the_coordinator_a_task_to_tell_the_patient(
    published: QuestionnaireVersion, physician: User, coordinator: User
) -> None:
    lead = _awaiting_review(published, coordinator)
    Lead.objects.filter(pk=lead.pk).update(owner=coordinator)

    lead = lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="declined",
        note="Not with this history.",
        physician=physician,
    )

    task = LeadTask.objects.get(lead=lead)
    assert task.assignee == coordinator
    assert "told kindly" in task.title
    assert lead.treatments.get(treatment="mesotherapy").outcome == "contraindicated"
    assert lead.status == Lead.Status.AWAITING_REVIEW  # laser still needs a decision


def test_only_a_physician_decides(
    published: QuestionnaireVersion, coordinator: User
) -> None:
    lead = _awaiting_review(published, coordinator)

    with pytest.raises(BusinessError) as refused:
        lead_review_decide(
            lead=lead,
            treatment="mesotherapy",
            decision="cleared",
            note="I think it is fine",
            physician=coordinator,
        )

    assert refused.value.code == "physician_only"
    assert not ScreeningOverride.objects.exists()


def test_declining_everything_on_an_unowned_lead_tells_the_lead_coordinators(
    published: QuestionnaireVersion,
    physician: User,
    coordinator: User,
    location: Location,
) -> None:
    chief = StaffMemberFactory.create(locations=[location], is_lead_coordinator=True)
    lead = _awaiting_review(published, coordinator)
    assert lead.owner is None

    for treatment in ("mesotherapy", "laser_ipl"):
        lead = lead_review_decide(
            lead=lead,
            treatment=treatment,
            decision="declined",
            note="Not for now.",
            physician=physician,
        )

    tasks = LeadTask.objects.filter(lead=lead)
    assert tasks.count() == 2
    assert all("close the lead" in task.title for task in tasks)
    assert set(
        StaffNotification.objects.filter(kind="task").values_list(
            "recipient", flat=True
        )
    ) == {chief.user.pk}


@pytest.mark.parametrize(
    "answers",
    [{"blood_thinners": ["warfarin"]}, {"cancer_treatment": True}],
    ids=["vitamin_k_antagonist", "cancer"],
)
def test_a_refusal_a_physician_may_lift_waits_in_the_physicians_queue(
    published: QuestionnaireVersion,
    physician: User,
    answers: dict[str, object],
) -> None:
    lead = lead_of(submit(published, treatments_wanted=["mesotherapy"], **answers))
    queue = client_for(physician).get("/api/v1/leads", {"outcome": "review"})

    assert [row["code"] for row in queue.json()["results"]] == [str(lead.code)]
    assert lead.treatments.get(treatment="mesotherapy").outcome == "review"

    lead = lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="declined",
        note="The prescriber prefers not to.",
        physician=physician,
    )

    assert lead.treatments.get(treatment="mesotherapy").outcome == "contraindicated"
    assert (
        client_for(physician)
        .get("/api/v1/leads", {"outcome": "review"})
        .json()["results"]
        == []
    )


def test_a_cleared_vitamin_k_antagonist_refusal_becomes_bookable(
    published: QuestionnaireVersion, physician: User
) -> None:
    lead = lead_of(
        submit(
            published, treatments_wanted=["mesotherapy"], blood_thinners=["warfarin"]
        )
    )

    lead = lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Prescriber agrees; INR monitored.",
        physician=physician,
    )

    assert lead.treatments.get(treatment="mesotherapy").outcome == "eligible"

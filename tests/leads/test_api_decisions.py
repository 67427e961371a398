"""The physician's two doors, on the lead: a decision and a re-evaluation change the
submission's screening and bring the lead's treatments and timeline along."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion, ScreeningOverride
from leads.models import Lead, LeadEvent
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def physician(location: Location) -> User:
    return staff(StaffMember.Role.PHYSICIAN, locations=[location])


def _decide(client: APIClient, lead: Lead, decision: str, note: str) -> Any:
    return client.post(
        f"/api/v1/leads/{lead.code}/decisions",
        {"treatment": "mesotherapy", "decision": decision, "note": note},
        format="json",
    )


def _outcome(lead: Lead, treatment: str = "mesotherapy") -> str:
    return lead.treatments.get(treatment=treatment).outcome


def _screening(client: APIClient, lead: Lead) -> Any:
    submission = lead.events.get(kind=LeadEvent.Kind.SUBMITTED).submission
    assert submission is not None
    return client.get(f"/api/v1/submissions/{submission.code}/screening").json()


def test_a_physician_clears_a_treatment_and_the_lead_and_its_screening_agree(
    published: QuestionnaireVersion, physician: User
) -> None:
    physician.user_permissions.add(
        *physician.user_permissions.model.objects.filter(codename="view_submission")
    )
    lead = lead_of(submit(published, blood_thinners=["apixaban"]))
    client = client_for(physician)

    response = _decide(client, lead, "cleared", "INR stable")

    assert response.status_code == 200, response.content
    assert _outcome(lead) == "eligible"
    screening = _screening(client, lead)
    assert screening["effective_outcomes"]["mesotherapy"] == "eligible"
    assert screening["result"]["treatments"]["mesotherapy"]["outcome"] == "review"
    assert screening["overrides"][0]["note"] == "INR stable"
    assert lead.events.filter(kind=LeadEvent.Kind.PHYSICIAN_DECISION).count() == 1


def test_only_a_physician_may_decide(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published, blood_thinners=["apixaban"]))
    coordinator = staff(locations=[location])
    superuser = staff(
        StaffMember.Role.CLINIC_ADMIN, locations=[location], is_superuser=True
    )

    for user in (coordinator, superuser):
        response = _decide(client_for(user), lead, "cleared", "ok")
        assert response.status_code == 403

    assert ScreeningOverride.objects.count() == 0
    assert _outcome(lead) == "review"


def test_a_deferral_cannot_be_cleared_and_stays_unbookable(
    published: QuestionnaireVersion, physician: User
) -> None:
    lead = lead_of(submit(published, pregnancy_status="pregnant"))

    response = _decide(client_for(physician), lead, "cleared", "seems fine")

    assert response.status_code == 400
    assert response.json()["code"] == "deferral_not_clearable"
    assert _outcome(lead) == "deferred"


def test_a_re_evaluation_starts_without_the_old_decisions_and_the_lead_follows(
    published: QuestionnaireVersion, physician: User
) -> None:
    lead = lead_of(submit(published, blood_thinners=["apixaban"]))
    client = client_for(physician)
    _decide(client, lead, "cleared", "INR stable")
    assert _outcome(lead) == "eligible"

    response = client.post(f"/api/v1/leads/{lead.code}/screening/reevaluate")

    assert response.status_code == 200, response.content
    assert _outcome(lead) == "review"
    event = lead.events.get(kind=LeadEvent.Kind.SCREENING_REEVALUATED)
    assert event.actor == physician
    assert event.data == {
        "changed": {"mesotherapy": {"from": "eligible", "to": "review"}}
    }
    assert ScreeningOverride.objects.count() == 1  # kept, no longer applied


def test_a_coordinator_cannot_have_the_answers_evaluated_again(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published, blood_thinners=["apixaban"]))

    response = client_for(staff(locations=[location])).post(
        f"/api/v1/leads/{lead.code}/screening/reevaluate"
    )

    assert response.status_code == 403
    assert not lead.events.filter(kind=LeadEvent.Kind.SCREENING_REEVALUATED).exists()

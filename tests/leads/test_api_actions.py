"""Staff act on a lead through the API: move, assign, note, call, merge, decide."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent
from tests.support.factories import LeadFactory
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(location: Location) -> User:
    return staff(locations=[location])


@pytest.fixture
def lead(location: Location) -> Lead:
    return LeadFactory.create(location=location)


def _post(user: User, lead: Lead, action: str, body: object) -> Any:
    return client_for(user).post(
        f"/api/v1/leads/{lead.code}/{action}", body, format="json"
    )


def test_moving_a_lead_along_the_pipeline_answers_its_new_page(
    coordinator: User, lead: Lead
) -> None:
    response = _post(
        coordinator, lead, "transition", {"to_status": "contacted", "note": "Rang."}
    )

    assert response.status_code == 200
    assert response.json()["status"] == "contacted"
    assert response.json()["first_contacted_at"] is not None
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.STATUS_CHANGED)
    assert (event.actor, event.text) == (coordinator, "Rang.")


def test_a_move_the_pipeline_does_not_allow_is_refused_with_a_clear_400(
    coordinator: User, lead: Lead
) -> None:
    response = _post(coordinator, lead, "transition", {"to_status": "completed"})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert "cannot move" in body["message"]
    assert "contacted" in body["fields"]["to_status"][0]
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW


def test_losing_a_lead_needs_a_reason(coordinator: User, lead: Lead) -> None:
    refused = _post(coordinator, lead, "transition", {"to_status": "lost"})
    moved = _post(
        coordinator,
        lead,
        "transition",
        {"to_status": "lost", "lost_reason": "price"},
    )

    assert refused.status_code == 400
    assert refused.json()["code"] == "lost_reason_required"
    assert moved.status_code == 200
    assert moved.json()["lost_reason"] == "price"


def test_an_unknown_status_is_a_field_error(coordinator: User, lead: Lead) -> None:
    response = _post(coordinator, lead, "transition", {"to_status": "won"})

    assert response.status_code == 400
    assert "to_status" in response.json()["fields"]


def test_a_coordinator_takes_an_unassigned_lead_but_cannot_reassign_one(
    coordinator: User, lead: Lead, location: Location
) -> None:
    colleague = staff(locations=[location])

    taken = _post(coordinator, lead, "assign", {"owner": coordinator.pk})
    given_away = _post(coordinator, lead, "assign", {"owner": colleague.pk})

    assert taken.status_code == 200
    assert taken.json()["owner"]["id"] == coordinator.pk
    assert given_away.status_code == 403
    assert given_away.json()["code"] == "assign_not_allowed"


def test_a_lead_coordinator_reassigns_and_unassigns(
    coordinator: User, lead: Lead, location: Location
) -> None:
    lead_coordinator = staff(locations=[location], lead_coordinator=True)

    given = _post(lead_coordinator, lead, "assign", {"owner": coordinator.pk})
    back = _post(lead_coordinator, lead, "assign", {"owner": None})

    assert given.json()["owner"]["id"] == coordinator.pk
    assert back.status_code == 200
    assert back.json()["owner"] is None


def test_a_lead_cannot_go_to_someone_who_does_not_work_there(
    lead: Lead, location: Location
) -> None:
    admin = staff(StaffMember.Role.CLINIC_ADMIN)
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])

    to_physician = _post(admin, lead, "assign", {"owner": physician.pk})
    to_nobody = _post(admin, lead, "assign", {"owner": 999999})

    assert to_physician.status_code == 400
    assert to_physician.json()["code"] == "owner_not_eligible"
    assert to_nobody.status_code == 400
    assert "owner" in to_nobody.json()["fields"]


def test_an_empty_owner_is_refused_not_read_as_unassign(
    coordinator: User, lead: Lead, location: Location
) -> None:
    lead_coordinator = staff(locations=[location], lead_coordinator=True)
    _post(lead_coordinator, lead, "assign", {"owner": coordinator.pk})

    blank = _post(lead_coordinator, lead, "assign", {"owner": ""})

    assert blank.status_code == 400
    assert "owner" in blank.json()["fields"]
    lead.refresh_from_db()
    assert lead.owner == coordinator


def test_a_note_and_a_call_land_on_the_timeline_newest_first(
    coordinator: User, lead: Lead
) -> None:
    note = _post(coordinator, lead, "notes", {"text": "Prefers mornings."})
    call = _post(
        coordinator, lead, "calls", {"outcome": "no_answer", "summary": "Voicemail"}
    )

    assert note.status_code == call.status_code == 201
    assert note.json()["kind"] == "note"
    assert call.json()["data"] == {"outcome": "no_answer"}
    timeline = client_for(coordinator).get(f"/api/v1/leads/{lead.code}/timeline")
    kinds = [event["kind"] for event in timeline.json()["results"]]
    assert kinds[:2] == ["call", "note"]
    detail = client_for(coordinator).get(f"/api/v1/leads/{lead.code}").json()
    assert detail["first_contacted_at"] is not None


def test_bad_note_and_call_bodies_are_field_errors(
    coordinator: User, lead: Lead
) -> None:
    assert _post(coordinator, lead, "notes", {"text": ""}).status_code == 400
    response = _post(coordinator, lead, "calls", {"outcome": "busy"})

    assert response.status_code == 400
    assert "outcome" in response.json()["fields"]


def test_merging_hides_the_duplicate_and_keeps_its_history(
    coordinator: User, lead: Lead, location: Location
) -> None:
    duplicate = LeadFactory.create(location=location)
    _post(coordinator, duplicate, "notes", {"text": "Second enquiry."})

    response = _post(coordinator, lead, "merge", {"duplicate": str(duplicate.code)})

    assert response.status_code == 200
    client = client_for(coordinator)
    listed = [item["code"] for item in client.get("/api/v1/leads").json()["results"]]
    assert listed == [str(lead.code)]
    timeline = client.get(f"/api/v1/leads/{lead.code}/timeline").json()["results"]
    assert "Second enquiry." in [event["text"] for event in timeline]
    assert client.get(f"/api/v1/leads/{duplicate.code}").json()["merged_into"] == (
        str(lead.code)
    )


def test_a_merged_lead_cannot_be_worked_on(
    coordinator: User, lead: Lead, location: Location
) -> None:
    duplicate = LeadFactory.create(location=location)
    _post(coordinator, lead, "merge", {"duplicate": str(duplicate.code)})

    response = _post(coordinator, duplicate, "notes", {"text": "Too late."})

    assert response.status_code == 409
    assert response.json()["code"] == "lead_merged"
    assert response.json()["fields"] == {"merged_into": [str(lead.code)]}


def test_a_lead_cannot_be_merged_into_itself(coordinator: User, lead: Lead) -> None:
    response = _post(coordinator, lead, "merge", {"duplicate": str(lead.code)})

    assert response.status_code == 400
    assert response.json()["code"] == "merge_not_allowed"


def test_a_physician_clears_a_treatment_and_a_coordinator_may_not(
    published: QuestionnaireVersion, location: Location, coordinator: User
) -> None:
    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])
    decision = {"treatment": "mesotherapy", "decision": "cleared", "note": "Fine."}

    refused = _post(coordinator, lead, "decisions", decision)
    decided = _post(physician, lead, "decisions", decision)

    assert refused.status_code == 403
    assert decided.status_code == 200
    treatments = {t["treatment"]: t["outcome"] for t in decided.json()["treatments"]}
    assert treatments["mesotherapy"] == "eligible"


def test_a_decision_on_a_treatment_not_asked_about_is_a_400(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])

    response = _post(
        physician,
        lead,
        "decisions",
        {"treatment": "tattoo_removal", "decision": "cleared", "note": "?"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "nothing_to_decide"

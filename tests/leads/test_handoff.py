"""The lead follows its screening whichever door changed it, and only when the change
is to its newest questionnaire."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion, ScreeningOverride
from intake.services.screening import screening_override_record
from leads.models import Lead, LeadEvent
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit


@pytest.fixture
def physician(location: Location) -> User:
    member = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    )
    return member.user


def _outcomes(lead: Lead) -> dict[str, str]:
    return dict(lead.treatments.values_list("treatment", "outcome"))


def test_a_decision_recorded_by_intake_itself_moves_the_lead(
    published: QuestionnaireVersion, physician: User
) -> None:
    submission = submit(published, blood_thinners=["aspirin"])
    lead = lead_of(submission)
    assert _outcomes(lead) == {"mesotherapy": "review", "laser_ipl": "review"}

    screening_override_record(
        submission_id=submission.pk,
        treatment="mesotherapy",
        decision="declined",
        note="Not with aspirin.",
        physician=physician,
    )

    assert _outcomes(lead) == {"mesotherapy": "contraindicated", "laser_ipl": "review"}


def test_a_decision_on_an_older_questionnaire_does_not_overrule_the_newer_one(
    published: QuestionnaireVersion, physician: User
) -> None:
    older = submit(published, blood_thinners=["aspirin"])
    newer = submit(published)  # the same person again, now without aspirin
    lead = lead_of(newer)
    assert lead_of(older) == lead
    assert _outcomes(lead) == {"mesotherapy": "eligible", "laser_ipl": "eligible"}

    screening_override_record(
        submission_id=older.pk,
        treatment="mesotherapy",
        decision="declined",
        note="Not with aspirin.",
        physician=physician,
    )

    assert _outcomes(lead) == {"mesotherapy": "eligible", "laser_ipl": "eligible"}


def test_the_admin_offers_no_door_to_a_screening_decision(
    published: QuestionnaireVersion, physician: User, admin_client: Client
) -> None:
    submission = submit(published, blood_thinners=["aspirin"])

    added = admin_client.get("/admin/intake/screeningoverride/add/")
    page = f"/admin/intake/submission/{submission.pk}/change/"
    viewed = admin_client.get(page)
    posted = admin_client.post(
        page,
        {
            "overrides-TOTAL_FORMS": "1",
            "overrides-INITIAL_FORMS": "0",
            "overrides-0-treatment": "mesotherapy",
            "overrides-0-decision": "cleared",
            "overrides-0-note": "Fine.",
        },
    )

    assert added.status_code == 404
    assert viewed.status_code == 200
    assert b"View submission" in viewed.content  # read-only: no form to decide in
    assert posted.status_code == 403
    assert not ScreeningOverride.objects.exists()
    assert not LeadEvent.objects.filter(kind=LeadEvent.Kind.PHYSICIAN_DECISION)

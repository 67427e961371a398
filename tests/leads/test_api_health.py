"""Health answers reach physicians and clinic admins only, and every read is audited."""

import pytest
from django.contrib.auth.models import User

from clinics.models import Location, StaffMember
from intake.models import HealthDataAccess, QuestionnaireVersion
from tests.support.staff_api import client_for, staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def physician(location: Location) -> User:
    return staff(StaffMember.Role.PHYSICIAN, locations=[location])


def test_a_physician_reads_each_submissions_answers_in_words_and_is_audited(
    published: QuestionnaireVersion, physician: User
) -> None:
    first = submit(published, blood_thinners=["warfarin"])
    second = submit(published, blood_thinners=["aspirin"])  # the same person again
    lead = lead_of(first)
    assert lead_of(second) == lead

    response = client_for(physician).get(f"/api/v1/leads/{lead.code}/health")

    assert response.status_code == 200
    body = response.json()
    assert body["lead"] == str(lead.code)
    assert [s["code"] for s in body["submissions"]] == [
        str(first.code),
        str(second.code),
    ]
    answers = body["submissions"][0]["answers"]
    assert any("Warfarin" in line for line in answers), answers
    screening = body["submissions"][0]["screening"]
    assert screening["effective_outcomes"]
    assert any(item["rules"] for item in screening["explanations"])
    reads = HealthDataAccess.objects.filter(user=physician)
    assert sorted(reads.values_list("submission_code", "what")) == sorted(
        [(first.code, "answers"), (second.code, "answers")]
    )


def test_a_clinic_admin_reads_health_answers_too(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published))
    admin = staff(StaffMember.Role.CLINIC_ADMIN)

    response = client_for(admin).get(f"/api/v1/leads/{lead.code}/health")

    assert response.status_code == 200
    assert HealthDataAccess.objects.filter(user=admin, what="answers").count() == 1


def test_a_coordinator_may_not_read_health_answers_and_nothing_is_logged(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published, blood_thinners=["warfarin"]))
    coordinator = staff(locations=[location])

    response = client_for(coordinator).get(f"/api/v1/leads/{lead.code}/health")

    assert response.status_code == 403
    assert "arfarin" not in response.content.decode()
    assert not HealthDataAccess.objects.exists()


def test_the_queue_and_lead_page_show_screening_outcomes_without_health_answers(
    published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(
        submit(
            published,
            blood_thinners=["warfarin"],
            severity="severe",
            concern_duration="over_3_years",
            smoking="current",
        )
    )
    coordinator = staff(locations=[location])
    client = client_for(coordinator)

    listed = client.get("/api/v1/leads").content.decode()
    detail = client.get(f"/api/v1/leads/{lead.code}")

    assert detail.status_code == 200
    assert detail.json()["treatments"]
    assert [s["code"] for s in detail.json()["submissions"]] == [
        str(lead.events.get(kind="submitted").submission.code)  # type: ignore[union-attr]
    ]
    # Neither an answer nor the score's words for one (severity, duration, triggers).
    for text in (listed, detail.content.decode()):
        for answer in ("arfarin", "evere", "3 years", "smok"):
            assert answer not in text
    assert not HealthDataAccess.objects.exists()

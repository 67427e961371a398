"""Rotating the health-data key: every encrypted column, one test, as an operator
would do it (add key 2 in front, rotate, remove key 1)."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from clinics.models import Location, StaffMember
from intake.encryption import health_bytes_decrypt, health_data_decrypt
from intake.models import (
    IntakeDraft,
    QuestionnaireVersion,
    ScreeningOverride,
    ScreeningResult,
    Submission,
    SubmissionPhoto,
)
from leads.models import LeadEvent
from leads.services.review import lead_review_decide
from leads.services.timeline import lead_call_log, lead_note_add
from tests.intake.test_health_data import _photo
from tests.support.answers import complete_answers
from tests.support.factories import StaffMemberFactory
from tests.support.form_steps import STEPS, fill_until_last, start, step_data
from tests.support.submitting import lead_of, submit


def _raw(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}"')  # noqa: S608  # our names
        return [value for (value,) in cursor]


@pytest.mark.django_db
def test_rows_written_under_key_one_are_all_read_under_key_two_alone(
    published: QuestionnaireVersion,
    location: Location,
    client: Client,
    settings: SettingsWrapper,
) -> None:
    key_one, key_two = (Fernet.generate_key().decode() for _ in range(2))
    settings.HEALTH_DATA_KEYS = [key_one]
    # Given: a submission with a photo, an unfinished draft, a note, a call
    # summary and a physician's decision, all written under key 1.
    answers = complete_answers()
    upload = _photo()
    upload.name = "cheek.jpg"
    last = fill_until_last(client, answers)
    assert client.post(last, {**step_data(len(STEPS), answers), "photos": [upload]})
    start(Client())
    submit(published, blood_thinners=["aspirin"])
    lead = lead_of(Submission.objects.latest("pk"))
    coordinator = StaffMemberFactory.create(locations=[location]).user
    physician = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    ).user
    lead_note_add(lead=lead, text="Prefers calls after six.", actor=coordinator)
    lead_call_log(
        lead=lead, outcome="reached", summary="Asked about bruising.", actor=coordinator
    )
    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Aspirin only, low dose.",
        physician=physician,
    )
    assert Submission.objects.count() == 2
    assert IntakeDraft.objects.exists()
    assert SubmissionPhoto.objects.exists()
    words = ["Prefers calls after six.", "Asked about bruising.", "Aspirin only"]
    stored = _raw("leads_leadevent", "text") + _raw("intake_screeningoverride", "note")
    assert not [w for w in words if any(w in value for value in stored)]

    # When: key 2 goes in front, the data is rotated, and key 1 is removed.
    settings.HEALTH_DATA_KEYS = [key_two, key_one]
    out = io.StringIO()
    call_command("health_data_reencrypt", stdout=out)
    settings.HEALTH_DATA_KEYS = [key_two]

    # Then: every row of every encrypted column reads with key 2 alone.
    assert "leads.LeadEvent.text" in out.getvalue()
    for submission in Submission.objects.all():
        assert health_data_decrypt(submission.health_answers_ciphertext)
    for draft in IntakeDraft.objects.all():
        assert isinstance(health_data_decrypt(draft.answers_ciphertext), dict)
    for result in ScreeningResult.objects.all():
        assert health_data_decrypt(result.detail_ciphertext) is not None
    for photo in SubmissionPhoto.objects.all():
        assert health_bytes_decrypt(bytes(photo.content_ciphertext))[:2] == b"\xff\xd8"
    texts = set(LeadEvent.objects.exclude(text="").values_list("text", flat=True))
    assert {"Prefers calls after six.", "Asked about bruising."} <= texts
    assert ScreeningOverride.objects.get().note == "Aspirin only, low dose."

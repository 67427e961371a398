"""Health data: encrypted at rest, rotated on demand, audited when staff read it."""

import io

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from PIL import Image
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from intake.encryption import HealthDataUnreadable, health_data_decrypt
from intake.models import HealthDataAccess, QuestionnaireVersion, Submission
from intake.photos import PhotoInvalid, photo_prepare
from tests.support.answers import complete_answers
from tests.support.form_steps import STEPS, fill_until_last, step_data


def submit(api_client: APIClient, **overrides: object) -> str:
    response = api_client.post(
        "/api/v1/submissions",
        {"answers": complete_answers(**overrides)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    code: str = response.json()["id"]
    return code


@pytest.mark.django_db
def test_health_answers_are_not_readable_in_the_database(
    api_client: APIClient, published: QuestionnaireVersion
) -> None:
    submit(api_client, blood_thinners=["warfarin"], other_medications="Coumadin 5mg")

    with connection.cursor() as cursor:
        cursor.execute("SELECT health_answers_ciphertext FROM intake_submission")
        (stored,) = cursor.fetchone()
        cursor.execute("SELECT detail_ciphertext FROM intake_screeningresult")
        (detail,) = cursor.fetchone()
    for text in (stored, detail):
        assert "warfarin" not in text
        assert "Coumadin" not in text


@pytest.mark.django_db
def test_rotating_the_key_keeps_every_answer_readable_with_the_new_key_alone(
    api_client: APIClient, published: QuestionnaireVersion, settings: SettingsWrapper
) -> None:
    submit(api_client, blood_thinners=["warfarin"])
    old_key = settings.HEALTH_DATA_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.HEALTH_DATA_KEYS = [new_key, old_key]

    call_command("health_data_reencrypt", stdout=io.StringIO())

    settings.HEALTH_DATA_KEYS = [new_key]
    submission = Submission.objects.get()
    answers = health_data_decrypt(submission.health_answers_ciphertext)
    assert answers["blood_thinners"] == ["warfarin"]
    settings.HEALTH_DATA_KEYS = [old_key]
    with pytest.raises(HealthDataUnreadable):
        health_data_decrypt(submission.health_answers_ciphertext)


@pytest.mark.django_db
def test_opening_a_submission_in_the_admin_shows_its_answers_in_words_and_is_audited(
    api_client: APIClient, published: QuestionnaireVersion, client: Client
) -> None:
    submit(api_client, blood_thinners=["warfarin"])
    admin_user = User.objects.create_superuser("boss", "boss@clinic.example", "pw")
    client.force_login(admin_user)
    submission = Submission.objects.get()

    page = client.get(f"/admin/intake/submission/{submission.pk}/change/")

    assert page.status_code == 200
    shown = page.content.decode()
    assert "Do you take any blood thinners?: Warfarin (Coumadin)" in shown
    # The screening below: warfarin waits for a physician for mesotherapy.
    assert "<td>mesotherapy</td>" in shown
    assert "<strong>review</strong>" in shown
    access = HealthDataAccess.objects.get()
    assert (access.user, access.what) == (admin_user, "answers")
    listing = client.get("/admin/intake/submission/")
    assert "Warfarin" not in listing.content.decode()
    assert HealthDataAccess.objects.count() == 1


def _photo(format: str = "JPEG") -> io.BytesIO:
    image = Image.new("RGB", (40, 30), "red")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {2: (41.0, 2.0, 3.0)}  # GPS latitude
    buffer = io.BytesIO()
    image.save(buffer, format=format, exif=exif)
    buffer.seek(0)
    return buffer


def test_a_photo_loses_its_metadata_and_keeps_its_pixels() -> None:
    upload = _photo()
    assert b"PhoneMaker" in upload.getvalue()

    prepared = photo_prepare(upload, size=len(upload.getvalue()))

    assert prepared.content_type == "image/jpeg"
    assert b"PhoneMaker" not in prepared.data
    assert not Image.open(io.BytesIO(prepared.data)).getexif()
    assert (prepared.width, prepared.height) == (40, 30)


def test_a_file_that_is_not_a_photo_is_refused_with_a_reason() -> None:
    with pytest.raises(PhotoInvalid, match="JPEG, PNG or WebP"):
        photo_prepare(io.BytesIO(b"%PDF-1.7 not an image"), size=20)
    with pytest.raises(PhotoInvalid, match="10 MB"):
        photo_prepare(_photo(), size=11 * 1024 * 1024)


@pytest.mark.django_db
def test_photos_sent_with_the_form_are_shown_to_staff_only_and_audited(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    last_step = fill_until_last(client, answers)
    last = step_data(len(STEPS), answers)
    upload = _photo()
    upload.name = "cheek.jpg"
    response = client.post(last_step, {**last, "photos": [upload]})
    assert response.status_code == 302
    submission = Submission.objects.get()
    photo = submission.photos.get()
    assert b"PhoneMaker" not in bytes(photo.content_ciphertext)
    url = f"/admin/intake/submission/{submission.pk}/photo/{photo.code}/"

    assert Client().get(url).status_code == 302  # to the sign-in page
    boss = User.objects.create_superuser("boss", "boss@clinic.example", "pw")
    staff = Client()
    staff.force_login(boss)
    shown = staff.get(url)

    assert shown.status_code == 200
    assert shown["Content-Type"] == "image/jpeg"
    assert b"PhoneMaker" not in shown.content
    assert HealthDataAccess.objects.get().what == "photo"


@pytest.mark.django_db
def test_a_file_that_is_not_a_photo_gets_a_message_by_the_upload_field(
    client: Client, published: QuestionnaireVersion
) -> None:
    answers = complete_answers()
    last_step = fill_until_last(client, answers)
    upload = io.BytesIO(b"%PDF-1.7")
    upload.name = "scan.pdf"

    response = client.post(
        last_step, {**step_data(len(STEPS), answers), "photos": [upload]}
    )

    assert response.status_code == 400
    assert 'id="photos-errors"' in response.content.decode()
    assert Submission.objects.count() == 0

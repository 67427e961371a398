"""Staff read health data through one door (intake.services.health): every path that
shows answers, screening or photos checks the role and the location the same way and
writes exactly one audit row per submission it read.

Each door is listed in DOORS; a new door that reads health data some other way fails
test_nothing_outside_the_health_door_decrypts_health_data.
"""

import ast
import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from PIL import Image
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from intake.encryption import health_bytes_encrypt
from intake.models import (
    HealthDataAccess,
    QuestionnaireVersion,
    Submission,
    SubmissionPhoto,
)
from intake.services.health import submission_health_read_many
from leads.models import Lead
from tests.support.factories import LocationFactory
from tests.support.staff_api import staff
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
WARFARIN = "Do you take any blood thinners?: Warfarin (Coumadin)"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, format="PNG")
    return out.getvalue()


@dataclass
class Patient:
    """One person at location A who sent the questionnaire twice (one lead), with a
    photo on the first submission."""

    first: Submission
    newest: Submission
    lead: Lead
    photo: SubmissionPhoto
    photo_bytes: bytes


@pytest.fixture
def patient(published: QuestionnaireVersion) -> Patient:
    first = submit(published, blood_thinners=["warfarin"])
    newest = submit(published, blood_thinners=["warfarin"])
    lead = lead_of(first)
    assert lead_of(newest) == lead
    data = _png()
    photo = SubmissionPhoto.objects.create(
        submission=first,
        content_type="image/png",
        content_ciphertext=health_bytes_encrypt(data),
        width=4,
        height=4,
    )
    return Patient(first, newest, lead, photo, data)


def _with_every_permission(user: User) -> User:
    """Every Django permission: only the role and the location may refuse."""
    user.user_permissions.set(Permission.objects.all())
    return User.objects.get(pk=user.pk)


def _signed_in(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)  # a session: the API and the admin alike
    return client


def _get(client: APIClient, url: str) -> tuple[int, bytes]:
    """The status and the whole body, a streamed one (the export) included: a
    stream is audited as it is read."""
    response: Any = client.get(url)
    if response.streaming:
        return response.status_code, b"".join(response.streaming_content)
    return response.status_code, response.content


def _csv_screening(body: bytes) -> list[str]:
    return [row["screening"] for row in csv.DictReader(io.StringIO(body.decode()))]


@dataclass(frozen=True)
class Door:
    url: Callable[[Patient], str]
    what: str
    read: Callable[[Patient], list[Submission]]  # the submissions it reads
    shows: Callable[[bytes, Patient], bool]  # what the physician sees


def _lead_health_shows(body: bytes, patient: Patient) -> bool:
    submissions = json.loads(body)["submissions"]
    return [one["code"] for one in submissions] == [
        str(patient.first.code),
        str(patient.newest.code),
    ] and all(WARFARIN in one["answers"] for one in submissions)


DOORS = {
    "fhir": Door(
        url=lambda p: f"/api/v1/submissions/{p.first.code}/fhir",
        what="fhir_export",
        read=lambda p: [p.first],
        shows=lambda body, p: b'"code":"warfarin"' in body,
    ),
    "screening": Door(
        url=lambda p: f"/api/v1/submissions/{p.first.code}/screening",
        what="screening",
        read=lambda p: [p.first],
        shows=lambda body, p: WARFARIN in body.decode(),
    ),
    "lead health": Door(
        url=lambda p: f"/api/v1/leads/{p.lead.code}/health",
        what="answers",
        read=lambda p: [p.first, p.newest],
        shows=_lead_health_shows,
    ),
    "export": Door(
        url=lambda p: "/api/v1/leads/export.csv?include_health=true",
        what="screening",
        read=lambda p: [p.newest],
        shows=lambda body, p: "mesotherapy=review" in _csv_screening(body)[0],
    ),
    "admin change page": Door(
        url=lambda p: f"/admin/intake/submission/{p.first.pk}/change/",
        what="answers",
        read=lambda p: [p.first],
        shows=lambda body, p: WARFARIN in body.decode(),
    ),
    "admin photo": Door(
        url=lambda p: f"/admin/intake/submission/{p.first.pk}/photo/{p.photo.code}/",
        what="photo",
        read=lambda p: [p.first],
        shows=lambda body, p: body == p.photo_bytes,
    ),
}


def _reads() -> list[tuple[Any, str]]:
    return sorted(HealthDataAccess.objects.values_list("submission_code", "what"))


@pytest.mark.parametrize("door", DOORS)
def test_a_physician_sees_health_data_at_each_door_with_one_audit_row_per_submission(
    patient: Patient, location: Location, door: str
) -> None:
    physician = _with_every_permission(
        staff(StaffMember.Role.PHYSICIAN, locations=[location], may_export=True)
    )
    spec = DOORS[door]

    status, body = _get(_signed_in(physician), spec.url(patient))

    assert status == 200, body[:300]
    assert spec.shows(body, patient)
    assert _reads() == sorted((one.code, spec.what) for one in spec.read(patient))
    assert set(HealthDataAccess.objects.values_list("user", flat=True)) == {
        physician.pk
    }


@pytest.mark.parametrize("door", DOORS)
def test_a_coordinator_with_every_permission_is_refused_health_data_at_each_door(
    patient: Patient, location: Location, door: str
) -> None:
    coordinator = _with_every_permission(
        staff(locations=[location], lead_coordinator=True, may_export=True)
    )

    status, body = _get(_signed_in(coordinator), DOORS[door].url(patient))

    if door == "admin change page":
        # The contact details are theirs to see; the answers are not.
        assert status == 200
        assert b"Health data is for physicians and clinic admins." in body
    else:
        assert status == 403, body[:300]
    if not door.startswith("admin"):
        assert json.loads(body)["code"] == "permission_denied"
    assert b"arfarin" not in body
    assert not HealthDataAccess.objects.exists()


@pytest.mark.parametrize("door", DOORS)
def test_another_locations_physician_finds_nothing_at_each_health_door(
    patient: Patient, door: str
) -> None:
    elsewhere = LocationFactory.create(slug="kadikoy")
    physician = _with_every_permission(
        staff(StaffMember.Role.PHYSICIAN, locations=[elsewhere], may_export=True)
    )

    status, body = _get(_signed_in(physician), DOORS[door].url(patient))

    if door == "export":
        assert status == 200
        assert _csv_screening(body) == []  # the lead is not theirs to list
    elif door == "admin change page":
        assert status == 302  # the admin's "no such object"
    else:
        assert status == 404, body[:300]
    assert patient.first.full_name.encode() not in body
    assert not HealthDataAccess.objects.exists()


def test_a_batch_read_leaves_out_another_locations_submission_and_its_audit_row(
    published: QuestionnaireVersion, location: Location
) -> None:
    ours = submit(published, blood_thinners=["warfarin"])
    LocationFactory.create(slug="kadikoy")
    theirs = submit(
        published,
        location="kadikoy",
        full_name="Berna Kaya",
        email="berna@example.com",
        phone="+90 555 111 22 33",
    )
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])

    read = submission_health_read_many(
        user=physician, submission_ids=[theirs.pk, ours.pk]
    )

    assert [one.code for one in read] == [ours.code]
    assert WARFARIN in read[0].answers
    assert _reads() == [(ours.code, "answers")]


# -- Nothing else decrypts ---------------------------------------------------------

DECRYPTS = {"health_data_decrypt", "health_bytes_decrypt"}
# Who else may decrypt, and why: none of them is a staff read.
MAY_DECRYPT = {
    "intake/encryption.py": "defines them",
    "intake/services/health.py": "the door",
    "intake/services/screening.py": "screening at record time, re-evaluation, and "
    "the rule dry run (which writes its own dry_run audit rows)",
    "intake/selectors/next_steps.py": "the person's own next steps, after sending",
    "intake/selectors/submissions.py": "the person's own draft, in the form",
}


def _source_files() -> list[Path]:
    apps = [
        path.parent
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in ("tests", "bench")
    ]
    return sorted(
        path
        for app in apps
        for path in app.rglob("*.py")
        if "migrations" not in path.parts
    )


def _names_used(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
    return names


def test_nothing_outside_the_health_door_decrypts_health_data() -> None:
    files = _source_files()
    assert ROOT / "intake/services/health.py" in files  # the walk finds the apps

    decrypting = {
        str(path.relative_to(ROOT)) for path in files if _names_used(path) & DECRYPTS
    }

    assert decrypting - set(MAY_DECRYPT) == set(), (
        "Read health data for staff through intake.services.health, which checks "
        "the role and the location and audits the read."
    )

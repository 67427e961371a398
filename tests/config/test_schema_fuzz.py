"""The whole API, fuzzed from its own OpenAPI schema, by everyone who may call it.

Every operation of /api/schema/ is called by an anonymous client and with an API
token of each staff role (coordinator, physician, clinic admin), with valid and
invalid parameters and bodies, and with its path's codes pointing at real objects
most of the time (a lead, its booking, a submission, a worker check), so that the
code behind the lookups runs too. Each answer must not be a 5xx, and its status,
content type, headers and body must be those the schema documents.

Authentication: a staff operation called anonymously must answer 401 or 403, and
with a token "authentication is not ignored" (schemathesis sends the request again
without the token, and with a wrong one, and expects 401 or 403).

"Schema-valid data is accepted" is left out: whether `q` is a phone or a name, a
`location` slug exists, a cursor is one the API made, an answer fits the
questionnaire or a transition is allowed is decided by what the value means, and
refused with 400 (docs/security.md). What the schema can say about a query
parameter (choices, patterns, formats, ranges) it says, so that a value the
schema allows is refused only for its meaning.
"""

import uuid
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import Permission
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from booking.models import AppointmentType, Booking
from booking.services import booking_create
from clinics.models import Location, StaffMember
from config.wsgi import application
from core.services import worker_check_request
from intake.models import QuestionnaireVersion, Submission
from leads.models import Lead
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.staff_api import api_key_for, staff
from tests.support.submitting import lead_of, submit

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)

ANONYMOUS = "anonymous"
ROLES = (ANONYMOUS, *StaffMember.Role.values)
EXAMPLES = 15

# In-process requests would close the test transaction's connection after each call.
pytestmark = pytest.mark.usefixtures("keep_test_connection")


@dataclass(frozen=True)
class World:
    """A lead with a submission and a booked first session of a course, and a
    worker check: what the paths' codes point at."""

    lead: Lead
    duplicate: Lead
    submission: Submission
    booking: Booking
    worker_check: uuid.UUID
    questionnaire: str


@pytest.fixture
def world(published: QuestionnaireVersion, location: Location) -> World:
    submission = submit(published, treatments_wanted=["mesotherapy"])
    lead = lead_of(submission)
    doctor = practitioner_make(location)
    course: AppointmentType = appointment_make(
        doctor, course_sessions=3, course_spacing_days=14
    )
    booking = booking_create(
        lead=lead,
        appointment_type=course,
        practitioner=doctor,
        location=location,
        starts_at=next_monday_at(10),
    )
    duplicate = lead_of(
        submit(published, email="ayse.y@example.com", phone="0532 765 43 21")
    )
    check = worker_check_request(requested_by=staff(StaffMember.Role.CLINIC_ADMIN))
    return World(
        lead=lead,
        duplicate=duplicate,
        submission=submission,
        booking=booking,
        worker_check=check.code,
        questionnaire=published.questionnaire.slug,
    )


def _real_codes(world: World, path: str) -> dict[str, str]:
    """What each path parameter of `path` names in `world`."""
    if path.startswith("/api/v1/leads/"):
        return {"code": str(world.lead.code), "booking": str(world.booking.code)}
    if path.startswith("/api/v1/submissions/"):
        return {"code": str(world.submission.code)}
    if path.startswith("/api/v1/ops/worker-checks/"):
        return {"code": str(world.worker_check)}
    if path.startswith("/api/v1/questionnaires/"):
        return {"slug": world.questionnaire}
    return {}


def _keep_random(value: str) -> bool:
    """One generated value in four stays as it is, to see the 404s (by a digest:
    hypothesis repeats its favourite values, such as the nil UUID)."""
    return zlib.crc32(value.encode()) % 4 == 0


def _point_at_real_objects(case: schemathesis.Case[Any], world: World) -> None:
    """Most valid codes become real objects' codes, in the path and in a merge's
    `duplicate`; invalid ones stay as they are."""
    for name, real in _real_codes(world, case.operation.path).items():
        value = (case.path_parameters or {}).get(name)
        if not isinstance(value, str) or _keep_random(value):
            continue
        if name == "slug" or _is_uuid(value):
            case.path_parameters[name] = real
    body = case.body
    if case.operation.path.endswith("/merge") and isinstance(body, dict):
        duplicate = body.get("duplicate")
        if (
            isinstance(duplicate, str)
            and _is_uuid(duplicate)
            and not _keep_random(duplicate)
        ):
            body["duplicate"] = str(world.duplicate.code)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_staff_operation(case: schemathesis.Case[Any]) -> bool:
    """An operation the schema says needs a sign-in (no anonymous `{}` entry)."""
    security = case.operation.definition.raw.get("security", [])
    return bool(security) and {} not in security


@schemathesis.check
def staff_operations_refuse_anonymous(
    ctx: CheckContext, response: Any, case: schemathesis.Case[Any]
) -> bool | None:
    """Without credentials a staff operation answers 401 or 403, whatever it is
    sent; a path that matches no route may answer 404 first."""
    if not _is_staff_operation(case) or response.status_code in (401, 403):
        return None
    unrouted = case.meta is not None and case.meta.is_negative_at(
        ParameterLocation.PATH
    )
    if response.status_code == 404 and unrouted:
        return None
    raise Failure(
        operation=case.operation.label,
        title="A staff operation answered an anonymous client",
        message=f"Expected 401 or 403, got {response.status_code}",
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def headers(role: str, location: Location) -> dict[str, str]:
    if role == ANONYMOUS:
        return {}
    # Reading submissions is a Django permission as well as a role (the health
    # door decides further): given, as the clinic gives it, so that door is reached.
    member = staff(role, locations=[location])
    member.user_permissions.add(
        Permission.objects.get(
            content_type__app_label="intake", codename="view_submission"
        )
    )
    return {"Authorization": f"Token {api_key_for(member)}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_operation_answers_everyone_as_its_schema_says(
    case: schemathesis.Case[Any], world: World, role: str, headers: dict[str, str]
) -> None:
    cache.clear()  # the public throttles would answer 429 after a few examples
    _point_at_real_objects(case, world)
    if role == ANONYMOUS:
        case.call_and_validate(checks=[*CHECKS, staff_operations_refuse_anonymous])
    else:
        case.call_and_validate(headers=headers, checks=[*CHECKS, ignored_auth])

"""The staff leads API, fuzzed from its own OpenAPI schema: never a 500.

Schemathesis sends valid and invalid filters, cursors and bodies to every leads
operation, signed in by token as a clinic admin, with the path's lead code pointing
at a real lead, and checks each answer against the schema. "Schema-valid data is
accepted" is left out on purpose: whether `q` is a phone, `owner` a user id or
`created_after` a date is decided by what the value means, and refused with 400.
"Authentication is not ignored" is left out too: the token is valid whatever else
it generates; test_api_scoping.py checks signing in.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from clinics.models import Location, StaffMember
from config.wsgi import application
from leads.models import Lead, LeadTreatment
from tests.support.factories import LeadFactory
from tests.support.staff_api import api_key_for, staff

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", application
).include(path_regex=r"^/api/v1/leads")


# In-process requests would close the test transaction's connection after each call.
pytestmark = pytest.mark.usefixtures("keep_test_connection")


@pytest.fixture
def lead(location: Location) -> Lead:
    lead = LeadFactory.create(location=location)
    LeadTreatment.objects.create(lead=lead, treatment="mesotherapy", outcome="review")
    return lead


@pytest.fixture
def token(location: Location) -> str:
    admin = staff(StaffMember.Role.CLINIC_ADMIN, locations=[location])
    return api_key_for(admin)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_staff_api_answers_every_request_as_its_schema_says(
    case: schemathesis.Case[Any], lead: Lead, token: str
) -> None:
    if case.path_parameters and "code" in case.path_parameters:
        case.path_parameters["code"] = str(lead.code)
    case.call_and_validate(
        headers={"Authorization": f"Token {token}"},
        excluded_checks=[positive_data_acceptance, ignored_auth],
    )

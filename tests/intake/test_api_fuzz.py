"""The public intake API, fuzzed from its own OpenAPI schema: never a 500.

Schemathesis generates valid and invalid requests for each public operation and
checks each answer against the schema (status codes, bodies) and for server errors.
One check is left out on purpose: "schema-valid data is accepted". The schema says
that answers are a map of JSON values; whether they answer the questionnaire is
decided by the questionnaire itself (docs/questionnaire.md), and refused with 400.
"""

from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/?format=json", application
).include(
    path_regex=r"^/api/v1/(questionnaires|submissions$|screening/(evaluate|rule-set))"
)


# In-process requests would close the test transaction's connection after each call.
pytestmark = pytest.mark.usefixtures("keep_test_connection")


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_public_api_answers_every_request_as_its_schema_says(
    case: schemathesis.Case[Any], published: object
) -> None:
    cache.clear()  # the throttles would answer 429 after a few examples
    case.call_and_validate(excluded_checks=[positive_data_acceptance])

"""Bad input answers 4xx in the error shape, never 500.

First the requests that did answer 500, one by one, each with what it answers now;
then properties: hostile strings (NUL, lone surrogates, bidi marks, formulas, very
long), numbers (huge, NaN, 1e400) and nesting (thousands deep) sent to the public
and staff endpoints, in any field, answer below 500.
"""

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from clinics.models import Location, StaffMember
from intake.models import Submission
from leads.models import Lead, LeadTreatment
from tests.support.answers import complete_answers
from tests.support.factories import LeadFactory
from tests.support.staff_api import client_for, staff

pytestmark = pytest.mark.django_db

SUBMISSIONS = "/api/v1/submissions"
EVALUATE = "/api/v1/screening/evaluate"


def _nested(depth: int, leaf: str = '"x"') -> str:
    return "[" * depth + leaf + "]" * depth


def _submission(*, answers: dict[str, Any] | None = None, **fields: Any) -> str:
    body = {
        "language": "en",
        **fields,
        "answers": {**complete_answers(), **(answers or {})},
    }
    # json.dumps writes NUL and lone surrogates as \u escapes, as a client would.
    return json.dumps(body)


@dataclass(frozen=True)
class Hostile:
    """One request that answered 500, and the 4xx it answers now."""

    method: str
    path: str  # {lead}: a lead of the signed-in clinic admin
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 400
    code: str = "invalid"
    field: str | None = None


HOSTILE = {
    "json nested 1,000 deep to submissions": Hostile(
        "POST",
        SUBMISSIONS,
        '{"answers": {"full_name": ' + _nested(1000) + "}}",
        code="json_too_deep",
    ),
    "json nested 1,000 deep to screening/evaluate": Hostile(
        "POST",
        EVALUATE,
        '{"answers": {"pregnant": ' + _nested(1000) + "}}",
        code="json_too_deep",
    ),
    "a staff note body nested 5,000 deep": Hostile(
        "POST",
        "/api/v1/leads/{lead}/notes",
        '{"text": ' + _nested(5000) + "}",
        code="json_too_deep",
    ),
    "a NUL byte in full_name": Hostile(
        "POST",
        SUBMISSIONS,
        _submission(answers={"full_name": "Ayşe\x00Yılmaz"}),
        field="answers.full_name",
    ),
    "a lone surrogate in full_name": Hostile(
        "POST",
        SUBMISSIONS,
        _submission(answers={"full_name": "Ayşe \ud800"}),
        field="answers.full_name",
    ),
    "a lone surrogate in language, quoted by its error message": Hostile(
        "POST", SUBMISSIONS, _submission(language="\ud800"), field="language"
    ),
    "a NUL byte in a source key": Hostile(
        "POST", SUBMISSIONS, _submission(source={"utm\x00": "ad"}), field="source"
    ),
    "a lone surrogate in a source key": Hostile(
        "POST", SUBMISSIONS, _submission(source={"utm\udc00": "ad"}), field="source"
    ),
    "a NUL byte in the Idempotency-Key header": Hostile(
        "POST",
        SUBMISSIONS,
        _submission(),
        headers={"Idempotency-Key": "retry\x001"},
        field="Idempotency-Key",
    ),
    "leads?created_before=9999-12-31": Hostile(
        "GET", "/api/v1/leads?created_before=9999-12-31", field="created_before"
    ),
    "export.csv?created_before=9999-12-31": Hostile(
        "GET",
        "/api/v1/leads/export.csv?created_before=9999-12-31",
        field="created_before",
    ),
    "leads?location=%00": Hostile(
        "GET", "/api/v1/leads?location=%00", field="location"
    ),
    "export.csv?location=%00": Hostile(
        "GET", "/api/v1/leads/export.csv?location=%00", field="location"
    ),
    "leads?owner=² (a digit to isdigit, not to int)": Hostile(
        "GET", "/api/v1/leads?owner=%C2%B2", field="owner"
    ),
}


@pytest.fixture
def clinic_admin(location: Location) -> User:
    return staff(StaffMember.Role.CLINIC_ADMIN, locations=[location])


@pytest.fixture
def lead(location: Location) -> Lead:
    lead = LeadFactory.create(location=location)
    LeadTreatment.objects.create(lead=lead, treatment="mesotherapy", outcome="review")
    return lead


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_request_that_answered_500_answers_4xx_saying_what_is_wrong(
    name: str, published: object, clinic_admin: User, lead: Lead
) -> None:
    hostile = HOSTILE[name]
    client = client_for(clinic_admin)
    cache.clear()  # the submission rate limit

    response = client.generic(
        hostile.method,
        hostile.path.format(lead=lead.code),
        hostile.body or "",
        content_type="application/json",
        headers=hostile.headers,
    )

    assert response.status_code == hostile.status, response.content[:300]
    body = response.json()
    assert body["code"] == hostile.code
    if hostile.field is not None:
        assert hostile.field in body["fields"], body


def test_a_body_over_the_upload_limit_answers_413_in_the_error_shape(
    settings: SettingsWrapper, published: object
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000

    response = APIClient().post(
        EVALUATE, {"answers": {"notes": "x" * 20_000}}, format="json"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_an_emoji_in_full_name_is_kept_as_the_person_typed_it(
    published: object,
) -> None:
    cache.clear()

    response = APIClient().post(
        SUBMISSIONS,
        _submission(answers={"full_name": "Ayşe Yılmaz 🌸"}),
        content_type="application/json",
    )

    assert response.status_code == 201, response.content[:300]
    submission = Submission.objects.get(code=response.json()["id"])
    assert submission.full_name == "Ayşe Yılmaz 🌸"


# -- Properties ------------------------------------------------------------------

NASTY_TEXT = (
    "\x00",
    "\ud800",
    "\udfff",
    "a\ud83d",
    "\u202eevil",
    "\ufeff",
    "\r\n",
    "'; DROP TABLE leads_lead; --",
    '=HYPERLINK("http://x")',
    "%00",
    "²",
    "١٢",
    "NaN",
    "9" * 5000,
    "x" * 100_000,
    "<script>alert(1)</script>",
    "../../etc/passwd",
)
hostile_text = st.one_of(
    st.sampled_from(NASTY_TEXT),
    # Every code point, surrogates included, which st.text leaves out by default.
    st.text(st.characters(exclude_categories=()), max_size=40),
)
hostile_number = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(json.dumps),
    st.sampled_from(
        ["1" + "0" * 5000, "1e400", "-1e400", "NaN", "Infinity", "-0", "1e-400"]
    ),
)
hostile_nesting = st.one_of(
    st.sampled_from([33, 1000, 5000]), st.integers(min_value=20, max_value=3000)
).flatmap(
    lambda depth: st.sampled_from([_nested(depth), '{"a":' * depth + "1" + "}" * depth])
)
# JSON text of one hostile value, to put where a field's value goes.
hostile_json = st.one_of(
    hostile_text.map(json.dumps),
    hostile_number,
    hostile_nesting,
    st.sampled_from(["true", "false", "null", "[]", "{}"]),
    st.lists(hostile_text, max_size=3).map(json.dumps),
    st.dictionaries(hostile_text, hostile_text, max_size=3).map(json.dumps),
)
# Bodies that are not JSON at all, or not UTF-8.
broken_body = st.one_of(
    st.binary(max_size=60),
    st.sampled_from([b'{"text": "\xed\xa0\x80"}', b'{"text": "a', b"\xff\xfe{}"]),
)

HOSTILE_VALUE = "\ue000hostile\ue000"


def _with_hostile(body: dict[str, Any], path: str, fragment: str) -> str:
    """`body` as JSON text with the value at dotted `path` replaced by `fragment`."""
    *parents, last = path.split(".")
    target = body
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = HOSTILE_VALUE
    return json.dumps(body).replace(json.dumps(HOSTILE_VALUE), fragment, 1)


def _query(pairs: list[tuple[str, str]]) -> str:
    """A query string a client could send, lone surrogates as their UTF-8 bytes."""
    return "&".join(
        f"{quote(name.encode('utf-8', 'surrogatepass'))}="
        f"{quote(value.encode('utf-8', 'surrogatepass'))}"
        for name, value in pairs
    )


PROPERTY = settings(
    max_examples=60,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ANSWER_FIELDS = [f"answers.{link_id}" for link_id in complete_answers()]


@PROPERTY
@given(
    where=st.sampled_from(
        [*ANSWER_FIELDS, "language", "website", "source", "source.utm_source"]
    ),
    value=hostile_json,
    key=st.one_of(st.none(), st.text(st.characters(max_codepoint=255), max_size=90)),
)
def test_a_hostile_value_anywhere_in_a_submission_never_answers_500(
    published: object, where: str, value: str, key: str | None
) -> None:
    cache.clear()  # the submission rate limit
    body = _with_hostile(
        {"language": "en", "answers": complete_answers()}, where, value
    )
    headers = {} if key is None else {"Idempotency-Key": key}

    response = APIClient().post(
        SUBMISSIONS, body, content_type="application/json", headers=headers
    )

    assert response.status_code < 500


@PROPERTY
@given(
    where=st.sampled_from([*ANSWER_FIELDS, "answers.pregnant", "birth_date"]),
    value=hostile_json,
    broken=st.one_of(st.none(), broken_body),
)
def test_a_hostile_screening_evaluation_never_answers_500(
    published: object, where: str, value: str, broken: bytes | None
) -> None:
    cache.clear()  # the evaluation throttle
    body = broken or _with_hostile({"answers": {}}, where, value)

    response = APIClient().post(EVALUATE, body, content_type="application/json")

    assert response.status_code < 500


@PROPERTY
@given(slug=hostile_text)
def test_a_hostile_questionnaire_slug_never_answers_500(
    published: object, slug: str
) -> None:
    path = "/api/v1/questionnaires/" + quote(slug.encode("utf-8", "surrogatepass"))

    response = APIClient().get(path)

    assert response.status_code < 500


LEAD_PARAMETERS = [
    "status",
    "priority",
    "owner",
    "overdue",
    "location",
    "treatment",
    "outcome",
    "created_after",
    "created_before",
    "q",
    "ordering",
    "cursor",
    "page_size",
    "include_health",
]


@PROPERTY
@given(
    endpoint=st.sampled_from(
        ["/api/v1/leads", "/api/v1/leads/export.csv", "/api/v1/leads/{lead}/timeline"]
    ),
    pairs=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(LEAD_PARAMETERS), hostile_text),
            st.one_of(hostile_text, hostile_number),
        ),
        min_size=1,
        max_size=3,
    ),
)
def test_hostile_queue_filters_never_answer_500(
    clinic_admin: User, lead: Lead, endpoint: str, pairs: list[tuple[str, str]]
) -> None:
    path = endpoint.format(lead=lead.code) + "?" + _query(pairs)

    response = client_for(clinic_admin).get(path)

    assert response.status_code < 500
    if response.status_code == 200 and response.streaming:
        b"".join(response.streaming_content)  # type: ignore[attr-defined]


STAFF_BODIES: dict[str, dict[str, Any]] = {
    "transition": {"to_status": "contacted", "lost_reason": "", "note": "Called."},
    "assign": {"owner": None},
    "notes": {"text": "Called back."},
    "calls": {"outcome": "reached", "summary": "Spoke."},
    "merge": {"duplicate": "00000000-0000-0000-0000-000000000000"},
    "decisions": {"treatment": "mesotherapy", "decision": "cleared", "note": "Ok."},
}


@PROPERTY
@given(
    action_field=st.sampled_from(
        [(action, name) for action, body in STAFF_BODIES.items() for name in body]
    ),
    value=hostile_json,
    broken=st.one_of(st.none(), broken_body),
)
def test_hostile_staff_action_bodies_never_answer_500(
    location: Location,
    clinic_admin: User,
    lead: Lead,
    action_field: tuple[str, str],
    value: str,
    broken: bytes | None,
) -> None:
    action, name = action_field
    physician = staff(StaffMember.Role.PHYSICIAN, locations=[location])
    user = physician if action == "decisions" else clinic_admin
    body = broken or _with_hostile(dict(STAFF_BODIES[action]), name, value)

    response = client_for(user).post(
        f"/api/v1/leads/{lead.code}/{action}", body, content_type="application/json"
    )

    assert response.status_code < 500

"""The patient pages on the clinic's own website: who may frame them, their cookies
there, and which API answers the clinic's site may read (CORS)."""

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http.response import HttpResponseBase
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from booking.links import booking_link_make
from config.origins import origins_parse
from intake.models import QuestionnaireVersion
from tests.config.test_settings import PRODUCTION_ENV, _manage
from tests.support.factories import LeadFactory

pytestmark = pytest.mark.django_db

CLINIC = "https://www.clinic.example"
OTHER = "https://elsewhere.example"
START = "/en/consultation/"


@pytest.fixture
def clinic_site(settings: Settings) -> None:
    """The clinic lists its website, as INTAKE_EMBED_ORIGINS would."""
    settings.INTAKE_EMBED_ORIGINS = [CLINIC]
    settings.CORS_ALLOWED_ORIGINS = [CLINIC]


def _frame_ancestors(response: HttpResponseBase) -> str:
    policy = response["Content-Security-Policy"]
    (directive,) = (d for d in policy.split("; ") if d.startswith("frame-ancestors"))
    return directive


def _patient_paths() -> list[str]:
    expired = booking_link_make(
        lead=LeadFactory.create(), now=timezone.now() - dt.timedelta(days=90)
    )
    return [
        "/en/",
        START,
        "/tr/consultation/",
        "/en/consultation/step/1/",
        "/en/consultation/resume/not-a-token/",
        f"/en/book/{expired.token}/",
    ]


@pytest.mark.usefixtures("clinic_site", "published")
def test_the_clinics_site_may_frame_every_patient_page(client: Client) -> None:
    for path in _patient_paths():
        response = client.get(path)

        assert response.status_code in {200, 302, 410}, path
        assert _frame_ancestors(response) == f"frame-ancestors 'self' {CLINIC}", path
        assert "X-Frame-Options" not in response, path
        # The rest of the policy is unchanged: scripts from this server only.
        assert "script-src 'self';" in response["Content-Security-Policy"]


@pytest.mark.usefixtures("published")
def test_with_no_site_listed_no_patient_page_may_be_framed(
    client: Client, settings: Settings
) -> None:
    settings.INTAKE_EMBED_ORIGINS = []

    for path in _patient_paths():
        response = client.get(path)

        assert _frame_ancestors(response) == "frame-ancestors 'none'", path
        assert response["X-Frame-Options"] == "DENY", path


@pytest.mark.usefixtures("clinic_site")
@pytest.mark.parametrize(
    "path",
    [
        "/staff/",
        "/staff/sign-in/",
        "/admin/login/",
        "/api/docs/",
        "/api/v1/leads",
        "/u/not-a-token/",
    ],
)
def test_staff_pages_admin_and_the_api_are_never_framed(
    client: Client, path: str
) -> None:
    response = client.get(path)

    assert _frame_ancestors(response) == "frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.usefixtures("clinic_site", "published")
def test_over_https_a_framed_pages_cookies_are_sent_to_the_frame(
    client: Client,
) -> None:
    response = client.get(START, secure=True)

    cookie = response.cookies["csrftoken"]
    assert cookie["samesite"] == "None"
    assert cookie["secure"] is True


@pytest.mark.usefixtures("clinic_site", "published")
def test_over_https_the_questionnaires_session_reaches_the_frame(
    client: Client,
) -> None:
    response = client.post(START, {"consent_health": "on"}, secure=True)

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert (session["samesite"], session["secure"]) == ("None", True)
    assert session["httponly"] is True


@pytest.mark.usefixtures("clinic_site", "published")
def test_over_plain_http_a_framed_pages_cookies_stay_lax(client: Client) -> None:
    # http://localhost on two ports is one site: Lax cookies reach the frame, and
    # browsers refuse SameSite=None without Secure.
    response = client.get(START)

    assert response.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.usefixtures("clinic_site")
def test_the_staff_sign_in_keeps_its_cookies_to_this_site(client: Client) -> None:
    response = client.get("/staff/sign-in/", secure=True)

    assert response.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.usefixtures("published")
def test_with_no_site_listed_cookies_stay_lax_over_https(
    client: Client, settings: Settings
) -> None:
    settings.INTAKE_EMBED_ORIGINS = []

    response = client.get(START, secure=True)

    assert response.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        (["https://www.clinic.example"], ["https://www.clinic.example"]),
        ([" HTTPS://WWW.Clinic.Example "], ["https://www.clinic.example"]),
        (["https://clinic.example:443"], ["https://clinic.example"]),
        (["http://localhost:8001"], ["http://localhost:8001"]),
        (
            ["https://xn--klinik-4ya.example:8443"],
            ["https://xn--klinik-4ya.example:8443"],
        ),
        (
            ["https://[::1]:8443", "http://127.0.0.1"],
            ["https://[::1]:8443", "http://127.0.0.1"],
        ),
        ([], []),
    ],
)
def test_origins_are_kept_as_browsers_write_them(
    given: list[str], kept: list[str]
) -> None:
    assert origins_parse("INTAKE_EMBED_ORIGINS", given) == kept


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("*", "no wildcard"),
        ("https://*.clinic.example", "no wildcard"),
        ("https://www.clinic.example/", "no path"),
        ("https://www.clinic.example/intake", "no path"),
        ("https://www.clinic.example?x=1", "no path"),
        ("www.clinic.example", "must start with https://"),
        ("ftp://www.clinic.example", "must start with https://"),
        ("'self'", "must start with https://"),
        ("https://", "must start with https://"),
        ("https://www.clinic.example; script-src https:", "not valid"),
        ("https://user@www.clinic.example", "not valid"),
        ("https://www.clinic.example:99999", "not valid"),
        ("https://www.clinic.example:0", "not valid"),
        ("https://-clinic.example", "not valid"),
    ],
)
def test_anything_but_an_origin_is_refused(value: str, reason: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="INTAKE_EMBED_ORIGINS") as refused:
        origins_parse("INTAKE_EMBED_ORIGINS", ["https://ok.example", value])

    assert reason in str(refused.value)
    assert repr(value) in str(refused.value)


def test_production_with_the_clinics_sites_passes_the_deploy_check() -> None:
    # django-cors-headers checks its origins too (corsheaders.E013, E014).
    env = {**PRODUCTION_ENV, "INTAKE_EMBED_ORIGINS": f"{CLINIC},https://clinic.example"}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_service_refuses_to_start_with_a_wildcard_origin() -> None:
    env = {**PRODUCTION_ENV, "INTAKE_EMBED_ORIGINS": "https://*.clinic.example"}

    result = _manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured: INTAKE_EMBED_ORIGINS takes origins like" in (
        result.stderr
    )


def _preflight(client: Client, path: str, origin: str) -> HttpResponseBase:
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, idempotency-key",
        },
    )


@pytest.mark.usefixtures("clinic_site")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/submissions",
        "/api/v1/screening/evaluate",
        "/api/v1/screening/rule-set",
        "/api/v1/questionnaires/redness-intake",
    ],
)
def test_the_clinics_site_may_call_the_public_api(client: Client, path: str) -> None:
    response = _preflight(client, path, CLINIC)

    assert response["Access-Control-Allow-Origin"] == CLINIC
    allowed = response["Access-Control-Allow-Headers"]
    assert "idempotency-key" in allowed
    # No cookies or credentials: the public API uses none.
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.usefixtures("clinic_site")
def test_a_public_api_answer_names_the_clinics_site_only(client: Client) -> None:
    listed = client.get("/api/v1/screening/rule-set", headers={"Origin": CLINIC})
    other = client.get("/api/v1/screening/rule-set", headers={"Origin": OTHER})

    assert listed["Access-Control-Allow-Origin"] == CLINIC
    assert "Access-Control-Allow-Origin" not in other


@pytest.mark.usefixtures("clinic_site")
def test_another_site_may_not_call_the_public_api(client: Client) -> None:
    response = _preflight(client, "/api/v1/submissions", OTHER)

    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.usefixtures("clinic_site")
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/leads",
        "/api/v1/leads/export.csv",
        "/api/v1/submissions/6f1c5b1e-0000-4000-8000-000000000000/fhir",
        "/api/v1/submissions/6f1c5b1e-0000-4000-8000-000000000000/screening",
        "/api/v1/ops/worker-checks",
        "/api/schema/",
    ],
)
def test_not_even_the_clinics_site_may_call_the_staff_api(
    client: Client, path: str
) -> None:
    response = _preflight(client, path, CLINIC)
    answer = client.get(path, headers={"Origin": CLINIC})

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Origin" not in answer


@pytest.mark.django_db
def test_a_form_refused_for_a_missing_cookie_says_why_inside_the_clinics_frame(
    settings: Settings, published: QuestionnaireVersion
) -> None:
    settings.INTAKE_EMBED_ORIGINS = ["https://www.clinic.example"]
    # A browser that keeps no cookies in a frame (Safari by default) sends none.
    client = Client(enforce_csrf_checks=True)

    response = client.post("/en/consultation/", {"consent_health": "on"})

    assert response.status_code == 403
    assert (
        "frame-ancestors 'self' https://www.clinic.example"
        in (response["Content-Security-Policy"])
    )
    page = response.content.decode()
    assert "Open the questionnaire in a new tab" in page
    assert 'target="_blank"' in page


@pytest.mark.usefixtures("clinic_site", "published")
def test_a_signed_in_staff_member_on_a_patient_page_keeps_a_lax_session(
    client: Client, django_user_model: Any
) -> None:
    client.force_login(django_user_model.objects.create_user("elif", password="x"))
    client.get(START, secure=True)

    response = client.post(START, {"consent_health": "on"}, secure=True)

    assert response.cookies["sessionid"]["samesite"] == "Lax"


@pytest.mark.usefixtures("clinic_site")
def test_a_refused_staff_form_is_never_framed_and_names_no_questionnaire() -> None:
    client = Client(enforce_csrf_checks=True)

    response = client.post("/staff/sign-in/", {"username": "x", "password": "y"})

    assert response.status_code == 403
    assert _frame_ancestors(response) == "frame-ancestors 'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert "questionnaire" not in response.content.decode()


@pytest.mark.usefixtures("clinic_site", "published")
def test_the_clinic_site_may_read_how_long_to_wait(client: Client) -> None:
    response = client.options(
        "/api/v1/submissions",
        headers={
            "Origin": "https://www.clinic.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    answer = client.post(
        "/api/v1/submissions",
        {},
        content_type="application/json",
        headers={"Origin": "https://www.clinic.example"},
    )

    assert response.status_code == 200
    assert "retry-after" in answer["Access-Control-Expose-Headers"].lower()

"""API tokens: a key works until it expires or is revoked, is shown once and stored
nowhere, and addresses that keep sending wrong keys are locked out for a while."""

import datetime as dt
import hashlib
import io
import logging
import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from clinics.models import ApiToken, Location, StaffMember
from clinics.services import (
    ApiTokenInvalid,
    ApiTokenNotFound,
    api_token_create,
    api_token_revoke,
)
from tests.support.staff_api import staff

pytestmark = pytest.mark.django_db

LEADS = "/api/v1/leads"
KEY = re.compile(r"cl_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")
UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}


@pytest.fixture
def coordinator(location: Location) -> User:
    return staff(locations=[location])


def _api(key: str, address: str = "198.51.100.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _page_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _secret(key: str) -> str:
    """The part of the key after cl_<prefix>_ (it may hold "_" itself)."""
    return key[len("cl_12345678_") :]


def _age(token: ApiToken, **fields: Any) -> None:
    ApiToken.objects.filter(pk=token.pk).update(**fields)


# -- The key -----------------------------------------------------------------------


def test_a_new_key_signs_in_to_the_api(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")

    response = _api(key).get(LEADS)

    assert response.status_code == 200, response.content
    assert key.startswith(f"cl_{token.prefix}_")
    assert token.expires_at - token.created_at == dt.timedelta(days=90)


def test_the_stored_row_holds_no_key(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="reporting")
    secret = _secret(key)[:20]
    assert len(_secret(key)) == 43

    row = ApiToken.objects.filter(pk=token.pk).values().get()

    stored = " ".join(str(value) for value in row.values())
    assert key not in stored
    assert secret not in stored
    assert row["key_digest"] == hashlib.sha256(key.encode()).hexdigest()


def test_a_token_lasts_the_days_asked_for_up_to_a_year(
    coordinator: User, settings: SettingsWrapper
) -> None:
    settings.API_TOKEN_DAYS = 30
    default, _key = api_token_create(user=coordinator, name="default")
    year, _key = api_token_create(user=coordinator, name="year", days=365)

    assert default.expires_at - default.created_at == dt.timedelta(days=30)
    assert year.expires_at - year.created_at == dt.timedelta(days=365)
    for days in (0, 366):
        with pytest.raises(ApiTokenInvalid) as refused:
            api_token_create(user=coordinator, name="too long", days=days)
        assert list(refused.value.fields) == ["days"]
    with pytest.raises(ApiTokenInvalid):
        api_token_create(user=coordinator, name="  ")


def test_an_expired_token_is_refused_saying_it_expired(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    now = timezone.now()
    _age(token, created_at=now - dt.timedelta(days=91), expires_at=now)

    response = _api(key).get(LEADS)

    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "expired" in response.json()["message"]
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_token_is_refused(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    api_token_revoke(token_id=token.pk, by=coordinator)

    response = _api(key).get(LEADS)

    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


@pytest.mark.parametrize(
    "header",
    ["Token", "Token two words", "Token cl_00000000_" + "a" * 43, "Token ünïcode"],
)
def test_a_wrong_or_malformed_key_is_refused(coordinator: User, header: str) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(LEADS)

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_key_whose_digest_does_not_match_is_refused(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    forged = f"cl_{token.prefix}_{'x' * 43}"

    assert _api(forged).get(LEADS).status_code == 401
    assert _api(key).get(LEADS).status_code == 200


def test_the_key_of_a_switched_off_login_is_refused(coordinator: User) -> None:
    _token, key = api_token_create(user=coordinator, name="Zapier")
    User.objects.filter(pk=coordinator.pk).update(is_active=False)

    response = _api(key).get(LEADS)

    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def _last_used(token: ApiToken) -> dt.datetime | None:
    return ApiToken.objects.get(pk=token.pk).last_used_at


def test_last_used_is_written_at_most_once_a_minute(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    assert token.last_used_at is None

    _api(key).get(LEADS)
    first = _last_used(token)
    _api(key).get(LEADS)
    second = _last_used(token)
    two_minutes_ago = timezone.now() - dt.timedelta(minutes=2)
    _age(token, last_used_at=two_minutes_ago)
    _api(key).get(LEADS)
    third = _last_used(token)

    assert first is not None
    assert second == first  # seconds later: not written again
    assert third is not None
    assert third > two_minutes_ago + dt.timedelta(minutes=1)


# -- The staff page ----------------------------------------------------------------


def test_the_staff_page_shows_a_new_key_once(coordinator: User) -> None:
    client = _page_client(coordinator)
    page = reverse("staff:api-tokens")

    empty = client.get(page)
    made = client.post(page, {"name": "Zapier", "days": "30"})
    token = ApiToken.objects.get(user=coordinator)
    key_shown = made.content.decode()
    listed = client.get(page).content.decode()

    assert empty.status_code == 200
    assert "You have no API tokens." in empty.content.decode()
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    assert "it will not be shown again" in key_shown
    found = KEY.search(key_shown)
    assert found is not None
    key = found.group()
    assert key.startswith(f"cl_{token.prefix}_")
    assert _api(key).get(LEADS).status_code == 200
    assert token.expires_at - token.created_at == dt.timedelta(days=30)
    assert key not in listed
    assert _secret(key) not in listed
    assert token.prefix in listed
    assert "Zapier" in listed


def test_the_staff_page_refuses_a_lifetime_over_a_year(coordinator: User) -> None:
    response = _page_client(coordinator).post(
        reverse("staff:api-tokens"), {"name": "Zapier", "days": "400"}
    )

    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_the_staff_navigation_links_to_the_tokens_page(coordinator: User) -> None:
    response = _page_client(coordinator).get(reverse("staff:queue"))

    assert reverse("staff:api-tokens") in response.content.decode()


def test_revoking_on_the_staff_page_stops_the_key(coordinator: User) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    client = _page_client(coordinator)

    response = client.post(reverse("staff:api-token-revoke", args=[token.code]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert token.revoked_by == coordinator
    assert _api(key).get(LEADS).status_code == 401
    assert "Revoked" in client.get(reverse("staff:api-tokens")).content.decode()


def test_nobody_revokes_someone_elses_token(
    coordinator: User, location: Location
) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    other = staff(locations=[location])
    clinic_admin = staff(StaffMember.Role.CLINIC_ADMIN)
    url = reverse("staff:api-token-revoke", args=[token.code])

    by_page = _page_client(other).post(url)
    by_admin_page = _page_client(clinic_admin).post(url)
    with pytest.raises(ApiTokenNotFound):
        api_token_revoke(token_id=token.pk, by=other)
    listed = _page_client(other).get(reverse("staff:api-tokens")).content.decode()

    assert by_page.status_code == 404
    assert by_admin_page.status_code == 404  # admins revoke in the admin
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    assert token.prefix not in listed
    assert _api(key).get(LEADS).status_code == 200


def test_revoking_needs_a_post(coordinator: User) -> None:
    token, _key = api_token_create(user=coordinator, name="Zapier")

    response = _page_client(coordinator).get(
        reverse("staff:api-token-revoke", args=[token.code])
    )

    assert response.status_code == 405
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# -- The admin ---------------------------------------------------------------------


def _clinic_admin(location: Location) -> User:
    user = staff(StaffMember.Role.CLINIC_ADMIN, locations=[location], is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="clinics")
    )
    return User.objects.get(pk=user.pk)


def test_the_admin_lists_and_revokes_tokens_but_shows_no_key(
    coordinator: User, location: Location
) -> None:
    token, key = api_token_create(user=coordinator, name="Zapier")
    client = _page_client(_clinic_admin(location))
    changelist = reverse("admin:clinics_apitoken_changelist")

    pages = [
        client.get(changelist),
        client.get(reverse("admin:clinics_apitoken_change", args=[token.pk])),
    ]
    revoked = client.post(
        changelist, {"action": "revoke", "_selected_action": [token.pk]}
    )
    pages.append(client.get(reverse("admin:clinics_apitoken_history", args=[token.pk])))

    for page in pages:
        html = page.content.decode()
        assert page.status_code == 200
        assert token.key_digest not in html
        assert key not in html
        assert _secret(key) not in html
    assert "Zapier" in pages[0].content.decode()
    assert revoked.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert client.get(reverse("admin:clinics_apitoken_add")).status_code == 403


def test_only_clinic_admins_see_the_token_admin(
    coordinator: User, location: Location
) -> None:
    api_token_create(user=coordinator, name="Zapier")
    other = staff(locations=[location], is_staff=True)
    other.user_permissions.set(Permission.objects.all())

    response = _page_client(User.objects.get(pk=other.pk)).get(
        reverse("admin:clinics_apitoken_changelist")
    )

    assert response.status_code == 403


# -- The lock-out ------------------------------------------------------------------


@pytest.fixture
def three_strikes(settings: SettingsWrapper) -> None:
    settings.API_TOKEN_LOCKOUT_FAILURES = 3
    settings.API_TOKEN_LOCKOUT_WINDOW_MINUTES = 10
    settings.API_TOKEN_LOCKOUT_MINUTES = 15


def test_wrong_keys_lock_their_address_out_and_no_other(
    coordinator: User, three_strikes: None
) -> None:
    _token, key = api_token_create(user=coordinator, name="Zapier")
    guesser = "203.0.113.5"

    wrong = [_api(f"guess-{n}", guesser).get(LEADS) for n in range(3)]
    locked = _api(key, guesser).get(LEADS)
    elsewhere = _api(key, "203.0.113.9").get(LEADS)

    assert [response.status_code for response in wrong] == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.json()["code"] == "token_locked_out"
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert elsewhere.status_code == 200


def test_the_lock_out_ends_after_the_cool_off(
    coordinator: User, three_strikes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _token, key = api_token_create(user=coordinator, name="Zapier")
    for n in range(3):
        _api(f"guess-{n}").get(LEADS)
    assert _api(key).get(LEADS).status_code == 429

    later = timezone.now().timestamp() + 15 * 60 + 1
    monkeypatch.setattr("core.lockouts.time.time", lambda: later)

    assert _api(key).get(LEADS).status_code == 200


def test_one_ipv6_network_is_one_address(
    coordinator: User, three_strikes: None
) -> None:
    _token, key = api_token_create(user=coordinator, name="Zapier")
    for n in range(3):
        _api(f"guess-{n}", f"2001:db8:1:2::{n + 1}").get(LEADS)

    assert _api(key, "2001:db8:1:2::99").get(LEADS).status_code == 429
    assert _api(key, "2001:db8:1:3::1").get(LEADS).status_code == 200


def test_expired_and_revoked_keys_do_not_lock_anyone_out(
    coordinator: User, three_strikes: None
) -> None:
    stale, stale_key = api_token_create(user=coordinator, name="old")
    now = timezone.now()
    _age(stale, created_at=now - dt.timedelta(days=91), expires_at=now)
    gone, gone_key = api_token_create(user=coordinator, name="gone")
    api_token_revoke(token_id=gone.pk, by=coordinator)
    _token, key = api_token_create(user=coordinator, name="Zapier")

    for _n in range(3):
        _api(stale_key).get(LEADS)
        _api(gone_key).get(LEADS)

    assert _api(key).get(LEADS).status_code == 200


def test_tokens_work_while_the_cache_is_down(
    coordinator: User,
    three_strikes: None,
    settings: SettingsWrapper,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _token, key = api_token_create(user=coordinator, name="Zapier")
    reachable = settings.CACHES
    settings.CACHES = UNREACHABLE_CACHE
    try:
        with caplog.at_level(logging.WARNING, logger="core.lockouts"):
            wrong = [_api(f"guess-{n}").get(LEADS).status_code for n in range(4)]
            good = _api(key).get(LEADS)
    finally:
        settings.CACHES = reachable  # before the autouse fixture clears the cache

    assert wrong == [401, 401, 401, 401]
    assert good.status_code == 200, good.content
    assert "lock-out cache unreachable (ConnectionError)" in caplog.text
    assert "198.51.100.7" not in caplog.text


def test_the_command_prints_a_new_key_and_nothing_else(coordinator: User) -> None:
    out = io.StringIO()

    call_command("api_token_create", coordinator.username, "--days", "7", stdout=out)

    key = out.getvalue().strip()
    assert KEY.fullmatch(key)
    assert _api(key).get(LEADS).status_code == 200
    token = ApiToken.objects.get(user=coordinator)
    assert token.expires_at - token.created_at == dt.timedelta(days=7)

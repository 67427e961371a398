"""Signing in to the staff pages: a lock-out after repeated wrong passwords, a
code from an authenticator app for clinic admins (set up at their first sign-in),
and a session that ends when its person has been away."""

import datetime as dt
import logging
import time

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import ClinicBranding, Location, StaffMember
from staff.sessions import SEEN
from tests.support.staff_api import staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("second_factor_on")]
PASSWORD = "a-long-staff-password"


@pytest.fixture
def second_factor_on() -> object:
    with override_settings(STAFF_SECOND_FACTOR=True):
        yield


def _user(role: str, location: Location) -> User:
    user = staff(role, locations=[location], username=f"{role}-1")
    user.set_password(PASSWORD)
    user.save()
    return user


def _sign_in(client: Client, username: str, password: str = PASSWORD) -> str:
    response = client.post(
        "/staff/sign-in/", {"username": username, "password": password}
    )
    return response["Location"] if response.status_code == 302 else ""


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_a_coordinator_signs_in_with_a_password_and_sees_the_queue(
    location: Location,
) -> None:
    _user(StaffMember.Role.COORDINATOR, location)
    client = Client()

    assert _sign_in(client, "coordinator-1") == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_wrong_passwords_lock_the_account_out_even_for_the_right_one(
    location: Location, caplog: pytest.LogCaptureFixture
) -> None:
    _user(StaffMember.Role.COORDINATOR, location)
    client = Client()
    axes_log = logging.getLogger("axes")  # it does not pass records up
    axes_log.addHandler(caplog.handler)

    for _attempt in range(5):
        assert _sign_in(client, "coordinator-1", "wrong") == ""
    locked = client.post(
        "/staff/sign-in/", {"username": "coordinator-1", "password": PASSWORD}
    )

    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert client.get("/staff/").status_code == 302  # not signed in
    axes_log.removeHandler(caplog.handler)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    # Logged, with the username and address masked (AXES_SENSITIVE_PARAMETERS).
    assert "/staff/sign-in/" in logged
    assert "coordinator-1" not in logged
    assert "127.0.0.1" not in logged


def test_a_clinic_admin_sets_up_an_authenticator_then_gives_its_code(
    location: Location,
) -> None:
    _user(StaffMember.Role.CLINIC_ADMIN, location)
    client = Client()

    assert _sign_in(client, "clinic_admin-1") == "/staff/"
    owed = client.get("/staff/")
    setup = client.get(client.get(owed["Location"])["Location"])
    device = TOTPDevice.objects.get(user__username="clinic_admin-1")
    wrong = client.post("/staff/sign-in/authenticator/", {"token": "000000"})
    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next wait a second or two
    confirmed = client.post(
        "/staff/sign-in/authenticator/", {"token": _code(device), "next": "/staff/"}
    )

    assert owed["Location"].startswith("/staff/sign-in/code/")
    assert "<svg" in setup.content.decode()  # the code to scan
    assert wrong.status_code == 422
    assert confirmed["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200

    # The next time: password, then the app's code.
    other = Client()
    _sign_in(other, "clinic_admin-1")
    to_login = other.get("/admin/")["Location"]
    assert other.get(to_login)["Location"].startswith("/staff/sign-in/code/")
    device.refresh_from_db()
    device.last_t = -1  # a new step's code (a code is good once)
    device.save()
    given = other.post(
        "/staff/sign-in/code/", {"token": _code(device), "next": "/admin/"}
    )
    assert given["Location"] == "/admin/"


def test_guessing_codes_makes_even_the_right_one_wait(location: Location) -> None:
    _user(StaffMember.Role.CLINIC_ADMIN, location)
    client = Client()
    _sign_in(client, "clinic_admin-1")
    client.get(client.get(client.get("/staff/")["Location"])["Location"])
    device = TOTPDevice.objects.get(user__username="clinic_admin-1")
    device.confirmed = True
    device.save()

    for guess in ("111111", "222222", "333333"):
        client.post("/staff/sign-in/code/", {"token": guess, "next": "/staff/"})
    device.refresh_from_db()
    right_too_soon = client.post(
        "/staff/sign-in/code/", {"token": _code(device), "next": "/staff/"}
    )

    assert right_too_soon.status_code == 422  # the wait doubles with each guess
    assert client.get("/staff/")["Location"].startswith("/staff/sign-in/code/")


def test_the_admin_signs_in_through_the_staff_sign_in(client: Client) -> None:
    response = client.get("/admin/")

    assert response.status_code == 302
    login = client.get(response["Location"])
    assert login["Location"].startswith("/staff/sign-in/?next=/admin/")


def test_a_session_ends_after_half_an_hour_away_but_not_by_the_queues_refresh(
    location: Location,
) -> None:
    client = Client()
    client.force_login(_user(StaffMember.Role.COORDINATOR, location))
    assert client.get("/staff/").status_code == 200

    session = client.session
    session[SEEN] = time.time() - 29 * 60
    session.save()
    refreshed = client.get("/staff/", HTTP_X_BACKGROUND="refresh")
    session = client.session
    assert refreshed.status_code == 200
    assert session[SEEN] < time.time() - 28 * 60  # the refresh did not count

    session[SEEN] = time.time() - 31 * 60
    session.save()
    assert client.get("/staff/").status_code == 302


def test_the_clinic_sets_how_long_a_sign_in_lasts_away_and_at_most(
    location: Location,
) -> None:
    ClinicBranding.objects.create(staff_idle_minutes=10, staff_session_hours=2)
    _user(StaffMember.Role.COORDINATOR, location)
    client = Client()
    assert _sign_in(client, "coordinator-1") == "/staff/"

    session = client.session
    lifetime = session.get_expiry_date() - timezone.now()
    assert dt.timedelta(hours=1, minutes=59) < lifetime <= dt.timedelta(hours=2)
    session[SEEN] = time.time() - 9 * 60
    session.save()
    assert client.get("/staff/").status_code == 200
    session = client.session
    session[SEEN] = time.time() - 11 * 60
    session.save()
    assert client.get("/staff/")["Location"].startswith("/staff/sign-in/")


def test_a_sign_in_past_its_lifetime_is_over_however_busy(location: Location) -> None:
    ClinicBranding.objects.create(staff_session_hours=1)
    _user(StaffMember.Role.COORDINATOR, location)
    client = Client()
    assert _sign_in(client, "coordinator-1") == "/staff/"

    session = client.session
    session.set_expiry(timezone.now() - dt.timedelta(seconds=1))
    session.save()

    assert client.get("/staff/")["Location"].startswith("/staff/sign-in/")

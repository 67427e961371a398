"""Clinic settings in the admin without JSON: opening hours per weekday."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from clinics.models import Location

pytestmark = pytest.mark.django_db


def _admin(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("boss", "b@clinic.example", "pw"))
    return client


def _form(**hours: str) -> dict[str, str]:
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    return {
        "name": "Kadıköy",
        "slug": "kadikoy",
        "time_zone": "Europe/Istanbul",
        "country": "TR",
        "is_active": "on",
        **{f"hours_{day}": hours.get(day, "") for day in days},
    }


def test_opening_hours_are_typed_per_weekday_not_as_json(client: Client) -> None:
    admin = _admin(client)

    page = admin.get("/admin/clinics/location/add/").content.decode()
    saved = admin.post(
        "/admin/clinics/location/add/",
        _form(mon="09:00-13:00, 14:00-18:00", sat="10:00-14:00"),
    )

    assert "Monday" in page
    assert "opening_hours" not in page
    assert saved.status_code == 302, saved.content.decode()[:3000]
    hours = Location.objects.get(slug="kadikoy").opening_hours
    assert hours == {
        "mon": [["09:00", "13:00"], ["14:00", "18:00"]],
        "sat": [["10:00", "14:00"]],
    }


def test_hours_that_are_not_hours_are_refused_on_their_day(client: Client) -> None:
    refused = _admin(client).post(
        "/admin/clinics/location/add/", _form(tue="9 to 5", wed="18:00-09:00")
    )

    body = refused.content.decode()
    assert refused.status_code == 200
    assert "Write each span as 09:00-18:00" in body
    assert "closes before it opens" in body
    assert not Location.objects.filter(slug="kadikoy").exists()

"""The configuration cache: a request takes configuration from the process while
the database's token says it is unchanged, and never once it has changed."""

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from booking.models import AppointmentType, Holiday, WeeklyAvailability
from clinics.models import Location
from core.config_cache import _token_read, config_cached, config_request_scope
from followups.models import Sequence
from leads.models import AssignmentRule, WebhookEndpoint
from tests.support.booking import appointment_make, next_monday_at, practitioner_make
from tests.support.factories import LocationFactory

pytestmark = pytest.mark.django_db


class _Loads:
    """A loader that counts its calls."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def _in_a_request(read: Callable[[], Any]) -> Any:
    with config_request_scope():
        return read()


def test_a_request_loads_once_then_takes_the_cached_value() -> None:
    LocationFactory.create()
    loads = _Loads()

    first = _in_a_request(lambda: config_cached("test value", loads))
    second = _in_a_request(lambda: config_cached("test value", loads))

    assert (first, second, loads.count) == (1, 1, 1)


def test_outside_a_request_nothing_is_cached() -> None:
    loads = _Loads()

    config_cached("test value", loads)
    config_cached("test value", loads)

    assert loads.count == 2


def test_a_change_to_the_configuration_loads_it_again() -> None:
    location = LocationFactory.create(name="Nişantaşı")
    names = lambda: _in_a_request(  # noqa: E731
        lambda: config_cached(
            "test names", lambda: list(Location.objects.values_list("name", flat=True))
        )
    )
    assert names() == ["Nişantaşı"]

    location.name = "Nişantaşı, second floor"
    location.save()

    assert names() == ["Nişantaşı, second floor"]


def test_a_change_rolled_back_brings_back_the_token_of_what_is_there() -> None:
    LocationFactory.create()
    before = _token_read()

    during = ""
    try:
        with transaction.atomic():
            LocationFactory.create(slug="kadikoy")
            during = _token_read()
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass

    assert during not in ("", before)
    assert _token_read() == before


def _location_change() -> None:
    LocationFactory.create(slug="kadikoy")


def _rule_change() -> None:
    AssignmentRule.objects.create(name="Turkish speakers", language="tr")


def _endpoint_change() -> None:
    WebhookEndpoint.objects.create(name="CRM", url="https://crm.example.com/hook")


def _sequence_change() -> None:
    Sequence.objects.update(is_active=False)


def _appointment_change() -> None:
    AppointmentType.objects.update(duration_minutes=60)


def _working_hours_change() -> None:
    WeeklyAvailability.objects.update(ends="17:00")


def _holiday_change() -> None:
    Holiday.objects.create(
        location=Location.objects.earliest("pk"),
        day=next_monday_at(9).date(),
        name="Bayram",
    )


@pytest.mark.parametrize(
    "change",
    [
        _location_change,
        _rule_change,
        _endpoint_change,
        _sequence_change,
        _appointment_change,
        _working_hours_change,
        _holiday_change,
    ],
    ids=lambda change: change.__name__.strip("_"),
)
def test_each_cached_table_renews_the_token(change: Callable[[], None]) -> None:
    location = LocationFactory.create()
    appointment_make(practitioner_make(location))
    before = _token_read()

    change()

    assert _token_read() != before


def test_a_round_robin_turn_leaves_the_token_alone() -> None:
    """Assignment writes the rule's last_assigned with each lead: that is not a
    change to the configuration, and must not empty the cache each time."""
    rule = AssignmentRule.objects.create(name="Everyone")
    before = _token_read()

    AssignmentRule.objects.filter(pk=rule.pk).update(last_assigned=None)

    assert _token_read() == before


def test_with_the_stamp_gone_nothing_is_cached_until_a_change() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_configstamp")
    loads = _Loads()

    _in_a_request(lambda: config_cached("test value", loads))
    _in_a_request(lambda: config_cached("test value", loads))
    assert loads.count == 2

    LocationFactory.create()
    _in_a_request(lambda: config_cached("test value", loads))
    _in_a_request(lambda: config_cached("test value", loads))
    assert loads.count == 3


def test_a_request_whose_response_is_never_closed_leaves_no_scope_behind(
    client: Client,
) -> None:
    """The scope ends with the view, not with the response's close(): the test's
    own reads after it are not cached."""
    LocationFactory.create()
    client.get("/api/v1/questionnaires/redness-intake")
    loads = _Loads()

    config_cached("test value", loads)
    config_cached("test value", loads)

    assert loads.count == 2

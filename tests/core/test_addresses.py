from django.test import RequestFactory
from pytest_django.fixtures import Settings

from core.addresses import client_address


def test_without_trusted_proxies_the_connection_address_counts(
    rf: RequestFactory, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 0
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")

    assert client_address(request) == "10.0.0.5"


def test_behind_one_proxy_a_forged_forwarded_address_is_ignored(
    rf: RequestFactory, settings: Settings
) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )

    assert client_address(request) == "203.0.113.7"

"""The Celery app's workaround for kombu's Redis channels of a closed connection
(config/celery_app.py); tests/integration/test_redis_outage.py shows it with a real
worker and a Redis that stops."""

from typing import Any

import pytest
from kombu import Connection
from kombu.transport import redis as kombu_redis

import config.celery_app  # noqa: F401  (installs the workaround)


def _channel(connection: Connection) -> Any:
    """A Redis channel of `connection`, never connected: only its parameters."""
    channel: Any = object.__new__(kombu_redis.Channel)
    channel.connection = connection.transport
    return channel


def test_a_channel_of_an_open_connection_still_gets_its_redis_address() -> None:
    channel = _channel(Connection("redis://127.0.0.1:6390/3"))

    params = kombu_redis.Channel._connparams(channel)  # type: ignore[attr-defined]

    assert (params["host"], params["port"], params["db"]) == ("127.0.0.1", 6390, 3)


def test_a_channel_of_a_collected_connection_fails_as_a_lost_broker_connection() -> (
    None
):
    # What the worker's consumer does when Redis goes away: collect(), then close().
    connection = Connection("redis://127.0.0.1:6390/3")
    channel = _channel(connection)
    connection.collect()

    with pytest.raises(kombu_redis.Transport.connection_errors):
        kombu_redis.Channel._connparams(channel)  # type: ignore[attr-defined]


def test_kombu_still_reads_the_host_of_a_collected_connection_so_keep_the_fix() -> None:
    # When this fails, kombu handles it itself: remove the workaround.
    connection = Connection("redis://127.0.0.1:6390/3")
    channel = _channel(connection)
    connection.collect()
    unpatched = kombu_redis.Channel._connparams.__wrapped__  # type: ignore[attr-defined]

    with pytest.raises(AttributeError, match="hostname"):
        unpatched(channel)

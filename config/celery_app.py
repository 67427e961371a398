"""The Celery app: settings from Django (CELERY_*), tasks from each app's tasks.py."""

import functools
import logging.config
from typing import Any

import redis
from celery import Celery, signals
from kombu.transport import redis as kombu_redis


def _closed_redis_channels_raise_connection_errors() -> None:
    """Make a Redis channel whose connection kombu already closed fail with a
    connection error, which every caller handles, instead of an AttributeError.

    kombu 5.7 (transport/redis.py, Channel._connparams reads
    `self.connection.client.hostname`): when Redis goes away, the worker's consumer
    calls `Connection.collect()`, which detaches the transport (`client = None`,
    kombu/connection.py `_do_close_transport`) but leaves the default channel
    half-closed (its BRPOP read failed), then `Connection.close()`, which closes that
    channel again. With a late-acknowledged task running, closing it tries to put the
    task back in the queue, builds a Redis client from the detached transport, and
    the AttributeError ends the worker ("Unrecoverable error"); the same happens when
    that task finishes and is acknowledged. As a connection error it is ignored or
    logged ("Couldn't ack"), the consumer reconnects, and Redis redelivers the task
    after the visibility timeout if it still has it. Idempotent.
    """
    channel: Any = kombu_redis.Channel
    original = channel._connparams
    if getattr(original, "closed_connection_guard", False):
        return

    @functools.wraps(original)
    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise redis.ConnectionError("the broker connection was closed")
        return original(self, asynchronous=asynchronous)

    _connparams.closed_connection_guard = True  # type: ignore[attr-defined]
    channel._connparams = _connparams


_closed_redis_channels_raise_connection_errors()

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
def _name_the_worker(sender: Any, **_: Any) -> None:
    """Name this worker for its outbox claims before its pool forks."""
    from core.workers import worker_identity_set

    worker_identity_set(hostname=sender.hostname)


@signals.worker_ready.connect
def _start_the_heartbeat(**_: Any) -> None:
    from core.workers import worker_heartbeat_start

    worker_heartbeat_start()


@signals.worker_shutdown.connect
def _stop_the_heartbeat(**_: Any) -> None:
    from core.workers import worker_heartbeat_stop

    worker_heartbeat_stop()


@signals.setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    """Log from workers in the same JSON shape, with the same filters, as the web."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)

"""Which worker process claimed an outbox row, and whether it is still alive.

A worker names itself once as it starts (`worker_identity_set`, on Celery's
worker_init, before its pool forks, so every pool process claims under the name of
the worker it belongs to) and then proves it is alive every
WORKER_HEARTBEAT_SECONDS from a thread of its main process: a Heartbeat row with
source "worker:<identity>". A claim whose worker has not been seen for
WORKER_DEAD_AFTER_INTERVALS intervals is free again (core.outbox), long before the
claim's lease ends. The name holds the main process's pid, so a worker restarted
under the same node name is another worker: what the dead one claimed is not
mistaken for its successor's.
"""

import datetime as dt
import logging
import os
import threading

from django.conf import settings
from django.db import DatabaseError, connection

from core.models import WORKER_HEARTBEAT_PREFIX
from core.services import heartbeat_record

logger = logging.getLogger(__name__)

# A worker whose heartbeat is older than this many intervals is taken for dead.
WORKER_DEAD_AFTER_INTERVALS = 3
IDENTITY_LENGTH = 200

_identity = ""


def worker_identity() -> str:
    """This process's worker's name, as its claims record it; "" outside a worker
    (a web request, a shell, a test), whose claims only the lease ends."""
    return _identity


def worker_identity_set(*, hostname: str) -> str:
    """Name this worker "<node name> <pid>" for its claims and heartbeats; the name."""
    global _identity
    _identity = f"{hostname} {os.getpid()}"[:IDENTITY_LENGTH]
    return _identity


def worker_dead_after() -> dt.timedelta:
    """How long a worker may go unseen before its claims are free again."""
    seconds: float = settings.WORKER_HEARTBEAT_SECONDS
    return dt.timedelta(seconds=seconds * WORKER_DEAD_AFTER_INTERVALS)


def worker_heartbeat_source(identity: str) -> str:
    return f"{WORKER_HEARTBEAT_PREFIX}{identity}"


class WorkerHeartbeat:
    """A daemon thread that records `identity`'s heartbeat now and then every
    WORKER_HEARTBEAT_SECONDS until `stop()`. A failed write (the database away) is
    logged and tried again at the next beat."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="worker-heartbeat", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stopped.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        interval: float = settings.WORKER_HEARTBEAT_SECONDS
        while not self._stopped.is_set():
            try:
                heartbeat_record(
                    source=worker_heartbeat_source(self.identity), worker=self.identity
                )
            except DatabaseError as error:
                logger.warning("worker heartbeat not recorded: %s", error)
            finally:
                # Not held between beats: a pool process forked meanwhile must not
                # inherit an open connection of this thread's.
                connection.close()
            self._stopped.wait(interval)


_heartbeat: WorkerHeartbeat | None = None


def worker_heartbeat_start() -> None:
    """Start this worker's heartbeat (on worker_ready: after the pool forked)."""
    global _heartbeat
    if _heartbeat is None and _identity:
        _heartbeat = WorkerHeartbeat(_identity)
        _heartbeat.start()


def worker_heartbeat_stop() -> None:
    """Stop the heartbeat (on worker_shutdown). Its row is left to go stale rather
    than deleted: a pool process may still be finishing a send."""
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None

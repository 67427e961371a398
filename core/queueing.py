"""Hand work to Celery after the transaction commits, without failing the request.

The row that describes the work is already committed when the broker is asked, so
a broker that is down loses nothing: a periodic task sends what is still pending.
"""

import logging
from collections.abc import Sequence
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task[Any, Any], *ids: int) -> None:
    """Send `task(*ids)` once the current transaction commits; log a broker failure."""

    def send() -> None:
        try:
            task.delay(*ids)
        # Any transport's failure (kombu's OperationalError for Redis, OSError for a
        # missing broker folder, ...): the request already committed, and must not
        # answer 500 for work that a periodic task will send.
        except Exception as error:  # noqa: BLE001
            logger.warning(
                "broker unavailable (%s); %s waits for the periodic resend",
                type(error).__name__,
                task.name,
                extra={"ids": list(ids)},
            )

    transaction.on_commit(send)


def enqueue_batches(task: Task[Any, Any], ids: Sequence[int], *, size: int) -> None:
    """Send `task([...])` for each `size` of `ids`, in order, over one broker
    connection (raises what the broker raises)."""
    with task.app.producer_or_acquire() as producer:
        for start in range(0, len(ids), size):
            task.apply_async((list(ids[start : start + size]),), producer=producer)


def enqueue_batches_on_commit(
    task: Task[Any, Any], ids: Sequence[int], *, size: int
) -> None:
    """enqueue_batches once the current transaction commits; log a broker failure."""
    if not ids:
        return
    batch_ids = list(ids)

    def send() -> None:
        try:
            enqueue_batches(task, batch_ids, size=size)
        except Exception as error:  # noqa: BLE001 (as in enqueue_on_commit)
            logger.warning(
                "broker unavailable (%s); %s waits for the periodic resend",
                type(error).__name__,
                task.name,
                extra={"ids": batch_ids[:size]},
            )

    transaction.on_commit(send)

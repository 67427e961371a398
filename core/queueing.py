"""Hand work to Celery after the transaction commits, without failing the request.

The row that describes the work is already committed when the broker is asked, so
a broker that is down loses nothing: a periodic task sends what is still pending.
"""

import logging
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

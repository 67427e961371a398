"""Celery tasks of the operations helpers: thin, by id, safe to run twice."""

import datetime as dt
import logging
from typing import Any

from celery import Task, shared_task

from core import services
from core.models import WORKER_HEARTBEAT_PREFIX

logger = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def worker_check_complete_task(self: Task[Any, Any], check_id: int) -> None:
    """Complete a worker check by id; a redelivery or a deleted row changes nothing."""
    completed = services.worker_check_complete(
        check_id=check_id, worker=self.request.hostname or ""
    )
    logger.info(
        "worker check %s",
        "completed" if completed else "had nothing to do",
        extra={"check_id": check_id},
    )


@shared_task(bind=True)
def heartbeat_record_task(self: Task[Any, Any]) -> None:
    """Record that beat, the broker and a worker all work; beat sends it each minute.
    Forget the heartbeats of workers gone for a day."""
    services.heartbeat_record(source="beat", worker=self.request.hostname or "")
    services.heartbeat_prune(
        prefix=WORKER_HEARTBEAT_PREFIX, older_than=dt.timedelta(days=1)
    )

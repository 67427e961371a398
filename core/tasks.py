"""Celery tasks of the operations helpers: thin, by id, safe to run twice."""

import logging

from celery import shared_task

from core import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def worker_check_complete_task(self, check_id: int) -> None:  # type: ignore[no-untyped-def]
    completed = services.worker_check_complete(
        check_id=check_id, worker=self.request.hostname or ""
    )
    logger.info(
        "worker check %s",
        "completed" if completed else "already complete",
        extra={"check_id": check_id},
    )


@shared_task(bind=True, ignore_result=True)
def heartbeat_record_task(self) -> None:  # type: ignore[no-untyped-def]
    services.heartbeat_record(source="beat", worker=self.request.hostname or "")

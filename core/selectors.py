"""Reads for health, readiness and the status page."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from config.celery_app import app as celery_app
from core.models import Heartbeat, WorkerCheck

CHECK_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    duration_ms: float
    # The error's class name only: a connection error can quote a URL with a password.
    error: str = ""


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_SECONDS)
        # Opening a channel proves the transport works, not only that a socket opened.
        conn.default_channel  # noqa: B018


def _check_cache() -> None:
    cache.set("readyz", "1", timeout=10)
    if cache.get("readyz") != "1":
        raise RuntimeError("cache did not return the value written")


def _run(name: str, check: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        return CheckResult(name, False, _elapsed_ms(started), type(exc).__name__)
    return CheckResult(name, True, _elapsed_ms(started))


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def readiness_checks() -> list[CheckResult]:
    """Check what a request may need: database, broker, and Redis when set."""
    checks: list[tuple[str, Callable[[], None]]] = [
        ("database", _check_database),
        ("broker", _check_broker),
    ]
    if settings.REDIS_URL:
        checks.append(("cache", _check_cache))
    return [_run(name, check) for name, check in checks]


def heartbeat_last_seen(*, source: str = "beat") -> datetime | None:
    """When the periodic scheduler last reached a worker, or None if never."""
    return (
        Heartbeat.objects.filter(source=source)
        .values_list("seen_at", flat=True)
        .first()
    )


def heartbeat_age_seconds(*, source: str = "beat") -> float | None:
    seen_at = heartbeat_last_seen(source=source)
    return None if seen_at is None else (timezone.now() - seen_at).total_seconds()


def worker_check_list_recent(*, limit: int = 5) -> list[WorkerCheck]:
    return list(WorkerCheck.objects.order_by("-requested_at")[:limit])


def worker_check_get(*, code: str) -> WorkerCheck | None:
    return WorkerCheck.objects.filter(code=code).first()

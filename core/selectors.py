"""Reads for readiness, the outbox backlog, the scheduler's heartbeat and worker
checks."""

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery import current_app as celery_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, QuerySet, Value
from django.utils import timezone

from core.models import DELIVERY_ACTIVE, Heartbeat, WorkerCheck
from core.outbox import outbox_models

BROKER_TIMEOUT_SECONDS = 3
# A heartbeat older than this many schedule intervals means beat or the workers stopped.
HEARTBEAT_LATE_AFTER_INTERVALS = 3


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    duration_ms: float
    # The error's class name only: a connection error can quote a URL with a password.
    error: str = ""


@dataclass(frozen=True)
class SchedulerState:
    age_seconds: float | None
    late: bool


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker() -> None:
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if "data_folder_in" in options:
        # The filesystem transport opens no connection: its folder is the broker.
        folder = Path(str(options["data_folder_in"]))
        if not (folder.is_dir() and os.access(folder, os.W_OK)):
            raise FileNotFoundError("broker folder missing or not writable")
        return
    # A new connection each time, not one from the pool: a pooled connection that
    # was open before the broker died would still look fine.
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        conn.default_channel  # noqa: B018 - opening a channel proves the broker answers


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


def readiness_check_list() -> list[CheckResult]:
    """Check what a request may need: database, broker, and Redis when set.

    Each check is bounded by its client's timeout (see the settings), so a dead
    dependency makes the probe fail in seconds instead of hanging it.
    """
    checks: list[tuple[str, Callable[[], None]]] = [
        ("database", _check_database),
        ("broker", _check_broker),
    ]
    if settings.REDIS_URL:
        checks.append(("cache", _check_cache))
    return [_run(name, check) for name, check in checks]


@dataclass(frozen=True)
class OutboxBacklog:
    """One outbox table's rows not sent yet: waiting, retrying or being sent."""

    kind: str  # the model's label: "booking.calendarsync"
    pending: int
    # Since the oldest of them was written; None when there is none.
    oldest_age_seconds: float | None


def outbox_backlog_list(*, now: dt.datetime) -> list[OutboxBacklog]:
    """The backlog of every outbox table (core.outbox.outbox_models), in one query.

    Reads only the rows the partial due index holds (pending or sending), so it
    stays cheap however many rows were sent.
    """
    per_table: list[QuerySet[Any, dict[str, Any]]] = [
        model._default_manager.filter(status__in=DELIVERY_ACTIVE)
        .order_by()
        # A constant is not grouped by: one row per table, even with no backlog.
        .values(outbox_label=Value(model._meta.label_lower))
        .annotate(pending=Count("pk"), oldest=Min("created_at"))
        for model in outbox_models()
    ]
    if not per_table:
        return []
    first, *others = per_table
    rows = first.union(*others, all=True) if others else first
    return [
        OutboxBacklog(
            kind=row["outbox_label"],
            pending=row["pending"],
            oldest_age_seconds=(
                None
                if row["oldest"] is None
                else max((now - row["oldest"]).total_seconds(), 0.0)
            ),
        )
        for row in sorted(rows, key=lambda row: row["outbox_label"])
    ]


def scheduler_get_state() -> SchedulerState:
    """How long since beat's heartbeat last ran on a worker, and whether it is late."""
    interval = settings.HEARTBEAT_INTERVAL_SECONDS
    seen_at = Heartbeat.objects.filter(source="beat").values_list("seen_at", flat=True)
    last = seen_at.first()
    if last is None:
        return SchedulerState(age_seconds=None, late=True)
    age = (timezone.now() - last).total_seconds()
    return SchedulerState(age, late=age > interval * HEARTBEAT_LATE_AFTER_INTERVALS)


def worker_check_list_recent(*, limit: int = 5) -> list[WorkerCheck]:
    """The latest worker checks, newest first."""
    return list(WorkerCheck.objects.order_by("-requested_at")[:limit])


def worker_check_get(*, code: str) -> WorkerCheck | None:
    """The worker check with this public code, or None."""
    return WorkerCheck.objects.filter(code=code).first()

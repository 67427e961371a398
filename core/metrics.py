"""What this process counts for Prometheus: how long requests take, and how Celery
tasks end. /metrics (config.metrics) serves these with the gauges it reads from
the database at each scrape.

A counter lives in the process that increments it: gunicorn's workers and the
Celery worker's children each keep their own. prometheus_client's multiprocess
mode adds them up: with PROMETHEUS_MULTIPROC_DIR set (to a folder every one of
those processes shares, emptied before they start) each process writes its values
there and /metrics reads them all. Unset, /metrics shows the counts of the one
process that answered it (docs/security.md, "Operations").

Labels come from small fixed sets (URL patterns, task names), never from what a
client sends: a path can carry a token, and every new label value is a new series.
"""

import logging
import time
from collections.abc import Callable
from typing import Any

from celery import Task, signals
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram, disable_created_metrics

logger = logging.getLogger(__name__)

# A "_created" timestamp beside each series doubles what is scraped and tells
# Prometheus nothing it needs: counter resets it finds on its own.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Not in prometheus_client's default registry: /metrics builds its own registry
# for each scrape (config.metrics), from these or from the multiprocess folder.
REQUEST_DURATION = Histogram(
    "clinic_http_request_duration_seconds",
    "Time to answer a request, by URL pattern (never the path), method and "
    "status class.",
    ["route", "method", "status"],
    registry=None,
)
TASK_OUTCOMES = Counter(
    "clinic_celery_tasks",
    "Celery task runs that ended, by task name and outcome "
    "(succeeded, failed, retried).",
    ["task", "outcome"],
    registry=None,
)
INSTRUMENTS = (REQUEST_DURATION, TASK_OUTCOMES)

# A request no URL pattern matched (a 404, a redirect to a language prefix).
UNMATCHED_ROUTE = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Time each request and record it by the URL pattern it matched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        try:
            REQUEST_DURATION.labels(
                route=request_route(request),
                method=request.method if request.method in _METHODS else "other",
                status=f"{response.status_code // 100}xx",
            ).observe(time.perf_counter() - started)
        except OSError as error:
            _not_recorded(error)
        return response


def request_route(request: HttpRequest) -> str:
    """The URL pattern `request` matched ("/api/v1/leads/<uuid:code>"), or
    UNMATCHED_ROUTE: never the path itself."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED_ROUTE
    return f"/{match.route}"


def task_outcome_record(sender: Task[Any, Any] | None, *, outcome: str) -> None:
    """Count one run of the task `sender` that ended with `outcome`."""
    name = getattr(sender, "name", None) or "unknown"
    try:
        TASK_OUTCOMES.labels(task=name, outcome=outcome).inc()
    except OSError as error:
        _not_recorded(error)


def _not_recorded(error: OSError) -> None:
    # The multiprocess folder is missing, not writable or full: a sample is lost,
    # the request or task it measured goes on.
    logger.warning("metric not recorded: %s", type(error).__name__)


def _succeeded(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    task_outcome_record(sender, outcome="succeeded")


def _failed(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    task_outcome_record(sender, outcome="failed")


def _retried(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    task_outcome_record(sender, outcome="retried")


def connect_signals() -> None:
    """Count every task's outcome in the process that ran it (a worker's child)."""
    signals.task_success.connect(_succeeded, weak=False)
    signals.task_failure.connect(_failed, weak=False)
    signals.task_retry.connect(_retried, weak=False)

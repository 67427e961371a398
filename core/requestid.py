"""A request id for every web request and every task it causes, and the access log.

The id is taken from an incoming X-Request-ID header when it is well formed (a proxy's
or a client's: it only correlates log lines, and the pattern keeps it from injecting
anything into them), or is made here. It is returned in the response and carried to
Celery tasks in a message header. The access log names the view, never the path: paths
can carry signed tokens.
"""

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery import signals
from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
NO_REQUEST = "-"
_TASK_HEADER = "request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

current_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)
access_logger = logging.getLogger("core.access")


def _new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.log_access = settings.ACCESS_LOG

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID.match(incoming) else _new_id()
        # Not reset on the way out: Django logs a 4xx or 5xx after the middleware has
        # returned. request_finished clears it once the response is sent.
        current_request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        if self.log_access:
            _log_access(request, response, started)
        response[HEADER] = request_id
        return response


def _log_access(request: HttpRequest, response: HttpResponse, started: float) -> None:
    match = request.resolver_match
    view = match.view_name if match else "-"
    access_logger.info(
        "%s %s %s",
        request.method,
        view,
        response.status_code,
        extra={
            "method": request.method,
            "view": view,
            "status_code": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )


def _clear(**_: Any) -> None:
    current_request_id.set(NO_REQUEST)


def _add_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = current_request_id.get()
    if headers is not None and request_id != NO_REQUEST:
        headers.setdefault(_TASK_HEADER, request_id)


def _task_started(task: Any = None, **_: Any) -> None:
    """Log a task under its request's id, or its own when beat or a command sent it."""
    request_id = getattr(task.request, _TASK_HEADER, None) if task else None
    current_request_id.set(request_id or f"task-{_new_id()}")


def connect_signals() -> None:
    """Clear the id after each request and task; carry it from requests into tasks."""
    request_finished.connect(_clear, weak=False)
    signals.before_task_publish.connect(_add_header, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)
    signals.task_postrun.connect(_clear, weak=False)

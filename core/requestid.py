"""A request id for every web request and every task it causes, for tracing logs.

The id comes from a trusted proxy's X-Request-ID header when it is well formed, or is
made here; it is returned in the response and carried to Celery tasks in a message
header.
"""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from celery import signals
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_TASK_HEADER = "request_id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

current_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def _new_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID.match(incoming) else _new_id()
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[HEADER] = request_id
        return response


def _add_header(headers: dict[str, Any] | None = None, **_: Any) -> None:
    if headers is not None:
        headers.setdefault(_TASK_HEADER, current_request_id.get())


def _task_started(task: Any = None, **_: Any) -> None:
    request_id = getattr(task.request, _TASK_HEADER, None) if task else None
    current_request_id.set(request_id or f"task-{_new_id()}")


def connect_celery_signals() -> None:
    """Carry the id from the publishing request into the worker's log lines."""
    signals.before_task_publish.connect(_add_header, weak=False)
    signals.task_prerun.connect(_task_started, weak=False)

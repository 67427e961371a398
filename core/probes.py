"""Load-balancer probes, answered before any other middleware.

Probes come from the balancer or the orchestrator with whatever Host header they send,
over plain HTTP, every few seconds: they must not meet host validation, the HTTPS
redirect, sessions or the access log. GET and HEAD only.
"""

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from core import selectors


def healthz() -> JsonResponse:
    """The process is alive and serving; says nothing of its dependencies."""
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    """Ready when every dependency answers: 200, else 503 naming the failure. The
    outbox backlog comes along for information and never decides readiness."""
    results = selectors.readiness_check_list()
    ready = all(result.ok for result in results)
    database_ok = any(result.ok for result in results if result.name == "database")
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {
            result.name: {
                "ok": result.ok,
                "duration_ms": result.duration_ms,
                **({"error": result.error} if result.error else {}),
            }
            for result in results
        },
        "outbox": _outbox(database_ok=database_ok),
    }
    return JsonResponse(body, status=200 if ready else 503)


def _outbox(*, database_ok: bool) -> dict[str, object]:
    """Rows of every outbox table not sent yet, and the age of the oldest."""
    unknown: dict[str, object] = {"pending": None, "oldest_age_seconds": None}
    if not database_ok:
        # The database check already failed the probe: do not wait on it twice.
        return {**unknown, "error": "database unavailable"}
    try:
        backlog = selectors.outbox_backlog_list(now=timezone.now())
    except DatabaseError as exc:
        return {**unknown, "error": type(exc).__name__}
    ages = [b.oldest_age_seconds for b in backlog if b.oldest_age_seconds is not None]
    return {
        "pending": sum(b.pending for b in backlog),
        "oldest_age_seconds": round(max(ages), 1) if ages else None,
    }


PROBES: dict[str, Callable[[], JsonResponse]] = {"/healthz": healthz, "/readyz": readyz}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        response = probe()
        add_never_cache_headers(response)
        return response

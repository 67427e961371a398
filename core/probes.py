"""Load-balancer probes, answered before any other middleware.

Probes come from the balancer or the orchestrator with whatever Host header they send,
over plain HTTP, every few seconds: they must not meet host validation, the HTTPS
redirect, sessions or the access log. GET and HEAD only.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers

from core import selectors


def healthz() -> JsonResponse:
    """The process is alive and serving; says nothing of its dependencies."""
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    """Ready when every dependency answers: 200, else 503 naming the failure."""
    results = selectors.readiness_check_list()
    ready = all(result.ok for result in results)
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
    }
    return JsonResponse(body, status=200 if ready else 503)


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

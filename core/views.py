"""Public start page, health endpoints and the staff status page."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import selectors, services


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Pages without an icon link (the admin) ask for /favicon.ico: answer, not 404."""
    return redirect(static("favicon.svg"), permanent=True)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving; says nothing of its dependencies."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when every dependency answers: 200, else 503 naming the failure."""
    results = selectors.readiness_checks()
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


@never_cache
@staff_member_required
def status(request: HttpRequest) -> HttpResponse:
    """The health of the whole stack, for staff, with a round trip through a worker."""
    recent = selectors.worker_check_list_recent()
    return render(
        request,
        "core/status.html",
        {
            "checks": selectors.readiness_checks(),
            "heartbeat_age": selectors.heartbeat_age_seconds(),
            "worker_checks": recent,
            "waiting": any(check.completed_at is None for check in recent),
        },
    )


@staff_member_required
@require_POST
def worker_check_start(request: HttpRequest) -> HttpResponse:
    services.worker_check_request(requested_by=request.user)
    messages.info(
        request, _("Test task sent. This page refreshes until a worker answers.")
    )
    return redirect("status")

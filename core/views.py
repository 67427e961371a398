"""The public start page and the staff status page."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import selectors, services
from core.security import embeddable

# Paths whose refused forms are staff's: never framed, no questionnaire link.
STAFF_PREFIXES = ("/admin/", "/staff/", "/api/")


@embeddable
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form, in words. On a patient page inside a clinic's frame the usual
    cause is a browser that keeps no cookies there: that page may be framed and
    offers a new tab. Staff pages and the admin get a plain page, never framed."""
    if request.path.startswith(STAFF_PREFIXES):
        return render(request, "403_csrf_staff.html", status=403)
    return _patient_csrf_failure(request)


@embeddable
def _patient_csrf_failure(request: HttpRequest) -> HttpResponse:
    return render(request, "403_csrf.html", status=403)


@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Pages without an icon link (the admin) ask for /favicon.ico: answer, not 404."""
    # 302, not 301: the static name carries a hash that changes with each deploy.
    return redirect(static("favicon.svg"))


@never_cache
@staff_member_required
def status(request: HttpRequest) -> HttpResponse:
    """The health of the whole stack, for staff, with a round trip through a worker."""
    recent = selectors.worker_check_list_recent()
    return render(
        request,
        "core/status.html",
        {
            "checks": selectors.readiness_check_list(),
            "scheduler": selectors.scheduler_get_state(),
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

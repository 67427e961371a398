"""The database is away: 503 and "try again", never a 500 or a traceback.

A request that meets a database that cannot be reached (refused, reset, shutting
down, starting up) answers 503 with Retry-After: the API in its error shape, any
other page in the visitor's language. A form posted then comes back in the page as
hidden fields under a "Try again" button, so nothing typed is lost. Nothing needs
restarting once the database is back: each request checks its connection first
(CONN_HEALTH_CHECKS) and opens a new one when the old one died.
"""

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from core.error_responses import API_PREFIX, error_body, server_error
from core.security import embeddable
from core.views import STAFF_PREFIXES

logger = logging.getLogger(__name__)

# A restart takes seconds; a client that waits this long finds the database back.
RETRY_AFTER_SECONDS = 15
# SQLSTATEs of a server that is there but will not serve: too many connections,
# shutting down (57P01, 57P02) or starting up (57P03); class 08 is the connection
# failing. A query the database refuses (timeouts, deadlocks) is another matter.
UNAVAILABLE_SQLSTATES = ("08", "53300", "57P")
# SQLite's equivalents: another process holds the file, or it cannot be opened.
UNAVAILABLE_SQLITE_ERRORS = frozenset(
    {"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN"}
)
# Never written back into a page: a password or a one-time code is typed again.
SECRET_FIELD_PARTS = ("password", "token", "otp")


def database_unavailable(error: BaseException | None) -> bool:
    """Whether `error` means the database cannot be reached just now, rather than
    that a query is wrong."""
    if isinstance(error, InterfaceError):
        return True  # "connection already closed": it died under this process
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    sqlite_error = getattr(cause, "sqlite_errorname", None)
    if sqlite_error is not None:
        return sqlite_error in UNAVAILABLE_SQLITE_ERRORS
    sqlstate = getattr(cause, "sqlstate", None)
    # None: no server answered at all (connection refused, reset or timed out).
    return sqlstate is None or str(sqlstate).startswith(UNAVAILABLE_SQLSTATES)


def _kept_fields(request: HttpRequest) -> list[tuple[str, str]]:
    """The posted fields to send again, in order, repeated names included."""
    return [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        and not any(part in name.lower() for part in SECRET_FIELD_PARTS)
        for value in values
    ]


def _page(request: HttpRequest) -> HttpResponse:
    # Only a form that passed the CSRF check is written back: a middleware that
    # failed earlier (before the check) would otherwise echo another site's post
    # into a page with this visitor's token.
    posted = request.method == "POST" and getattr(
        request, "csrf_processing_done", False
    )
    return render(
        request,
        "503.html",
        {
            "posted": posted,
            "fields": _kept_fields(request) if posted else [],
            "had_files": posted and bool(request.FILES),
            # Read from the session, which is in the database: none on this page.
            "messages": (),
        },
        status=503,
    )


# A patient page may be shown in a clinic's frame; so may its 503 (core.views).
_patient_page = embeddable(_page)


def outage_response(request: HttpRequest, error: BaseException) -> HttpResponse:
    """The 503 for `request`, which met `error` (one database_unavailable accepts)."""
    logger.warning(
        "database unavailable (%s): answered 503",
        type(error).__name__,
        extra={"status_code": 503, "method": request.method},
    )
    if request.path.startswith(API_PREFIX):
        message = _("The service is unavailable for a moment. Please try again.")
        response: HttpResponse = JsonResponse(
            error_body(message, "service_unavailable"), status=503
        )
    elif request.path.startswith(STAFF_PREFIXES):
        response = _page(request)
    else:
        response = _patient_page(request)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    return response


class OutageMiddleware:
    """Answer a view that met an unreachable database with the 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(
        self, request: HttpRequest, exception: Exception
    ) -> HttpResponse | None:
        if database_unavailable(exception):
            return outage_response(request, exception)
        return None


def handler500(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, which also sees what no view raised (a middleware that
    read the session, say): the 503 for the database being away, else the 500."""
    error = sys.exc_info()[1]
    if error is not None and database_unavailable(error):
        return outage_response(request, error)
    return server_error(request)

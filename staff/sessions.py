"""How long a staff sign-in lasts, as the clinic sets it (ClinicBranding): at
most `staff_session_hours` from signing in, however busy the person is, and
`staff_idle_minutes` since their last request to the staff pages or the admin.
The API, signed in by token or session, is left alone: it reads no session it
does not need. A page refreshing itself (the queue, every minute) says so with
the X-Background header and does not count as the person being there.

The limits are copied into the session at sign-in, so a request reads no more
than the session; a change applies from each person's next sign-in."""

import datetime as dt
import time
from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from clinics.models import STAFF_IDLE_MINUTES_DEFAULT
from clinics.selectors import clinic_branding_get

SEEN = "staff_seen_at"
IDLE_LIMIT = "staff_idle_seconds"
WATCHED = ("/staff/", "/admin/")


def staff_session_start(request: HttpRequest) -> None:
    """Give the session just signed in the clinic's limits."""
    branding = clinic_branding_get()
    request.session[IDLE_LIMIT] = branding.staff_idle_minutes * 60
    request.session[SEEN] = time.time()
    request.session.set_expiry(
        timezone.now() + dt.timedelta(hours=branding.staff_session_hours)
    )


class IdleSignOutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(WATCHED) and request.user.is_authenticated:
            now = time.time()
            seen = request.session.get(SEEN, now)
            limit = request.session.get(IDLE_LIMIT, STAFF_IDLE_MINUTES_DEFAULT * 60)
            if now - seen > limit:
                logout(request)  # the view sees an anonymous user: sign in again
            elif request.headers.get("X-Background") != "refresh":
                request.session[SEEN] = now
        return self.get_response(request)

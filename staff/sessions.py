"""Signing staff out after a while without them: STAFF_IDLE_MINUTES since their
last request to the staff pages or the admin (the API, signed in by token or
session, is left alone: it reads no session it does not need). A page refreshing
itself (the queue, every minute) says so with the X-Background header and does
not count as the person being there."""

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SEEN = "staff_seen_at"
WATCHED = ("/staff/", "/admin/")


class IdleSignOutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(WATCHED) and request.user.is_authenticated:
            now = time.time()
            seen = request.session.get(SEEN, now)
            if now - seen > settings.STAFF_IDLE_MINUTES * 60:
                logout(request)  # the view sees an anonymous user: sign in again
            elif request.headers.get("X-Background") != "refresh":
                request.session[SEEN] = now
        return self.get_response(request)

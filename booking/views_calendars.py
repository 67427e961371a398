"""A practitioner's calendar feed, for their calendar app to subscribe to.

Public: the app fetches it without a login, so the token in the address is the only
key (256 random bits; the admin gives a new one when it leaks). The feed names
appointments and leads' references only (booking.ics), and no cache may keep it.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from booking.calendar_selectors import practitioner_calendar_get_by_token
from booking.ics import practitioner_feed_ics


@require_safe
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed behind `token` as text/calendar; 404 for any other token."""
    calendar = practitioner_calendar_get_by_token(token)
    if calendar is None:
        raise Http404
    response = HttpResponse(
        practitioner_feed_ics(calendar), content_type="text/calendar; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["Content-Disposition"] = 'inline; filename="calendar.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    # The address is the secret: never passed on to a linked site.
    response["Referrer-Policy"] = "no-referrer"
    return response

"""What the staff views share: finding a lead the user may see, htmx's header."""

import uuid

from django.contrib.auth.models import AnonymousUser, User
from django.http import Http404, HttpRequest

from leads.models import Lead
from leads.selectors import lead_get_for_user


def is_htmx(request: HttpRequest) -> bool:
    """Whether htmx asked (it wants a part of the page, not all of it)."""
    return request.headers.get("HX-Request") == "true"


def lead_or_404(user: User | AnonymousUser, code: uuid.UUID) -> Lead:
    """The lead if `user` may see it; another location's lead does not exist."""
    lead = lead_get_for_user(user=user, code=code)
    if lead is None:
        raise Http404
    return lead

"""A staff member's own API tokens: list them, make one (its key shown on that
answer only, never again), revoke one. Anyone else's token does not exist here
(404); clinic admins revoke any in the admin."""

import uuid
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinics.selectors import api_token_get_for_user, api_token_list_for_user
from clinics.services import ApiTokenInvalid, api_token_create, api_token_revoke
from staff.access import staff_required
from staff.forms import ApiTokenForm


@staff_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The list and the form; a valid form makes a token and answers with its key."""
    user = cast(User, request.user)
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            token, key = api_token_create(
                user=user,
                name=form.cleaned_data["name"],
                days=form.cleaned_data["days"],
            )
        except ApiTokenInvalid as error:
            for field, problems in error.fields.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            # Rendered, not redirected: the key exists in this answer only.
            return render(
                request, "staff/api_token_created.html", {"token": token, "key": key}
            )
    return render(
        request,
        "staff/api_tokens.html",
        {"form": form, "tokens": api_token_list_for_user(user=user)},
        status=422 if form.is_bound else 200,
    )


@staff_required
@require_POST
def api_token_revoke_view(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    user = cast(User, request.user)
    token = api_token_get_for_user(user=user, code=code)
    if token is None:
        raise Http404
    api_token_revoke(token_id=token.pk, by=user)
    messages.success(
        request, _("The token %(name)s no longer works.") % {"name": token.name}
    )
    return redirect(reverse("staff:api-tokens"))

"""The coordinators' queue: the leads most in need of action first, filtered and
searched, counts per status, refreshing itself, and bulk actions."""

from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clinics.models import Location
from clinics.selectors import location_scoped
from core.errors import BusinessError
from intake.selectors.questionnaires import treatment_names
from leads.api.pagination import CursorInvalid
from leads.models import Lead
from leads.selectors import LeadFilters, lead_queue_for_user
from leads.services.assignment import lead_assign
from leads.services.timeline import lead_transition
from staff.access import staff_required
from staff.forms import OUTCOME_WORDS, BulkForm, QueueFilterForm
from staff.selectors import QueuePage, queue_page
from staff.views.common import is_htmx


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """The queue page; asked by htmx (filters changed, the minute's refresh, the
    next page), only its rows."""
    user = cast(User, request.user)
    names = treatment_names(short=True)
    form = QueueFilterForm(
        request.GET or None,
        names=names,
        locations=location_scoped(Location.objects.order_by("name"), user=user,
                                  location_field="pk"),
    )  # fmt: skip
    page: QueuePage | None = None
    if not form.is_bound or form.is_valid():
        if not form.is_bound:
            form.cleaned_data = {}
        try:
            page = queue_page(
                user=user,
                filters=form.filters(user=user),
                ordering=form.ordering_chosen(),
                cursor=request.GET.get("cursor") or None,
                now=timezone.now(),
            )
        except CursorInvalid:
            return redirect(request.path)
    context = {
        "form": form,
        "page": page,
        "outcome_words": OUTCOME_WORDS,
        "treatment_names": names,
        "query": _query_without_cursor(request),
        "statuses": Lead.Status.choices,
        "lost_reasons": Lead.LostReason.choices,
    }
    template = "staff/_queue_rows.html" if is_htmx(request) else "staff/queue.html"
    return render(request, template, context, status=200 if page else 400)


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("cursor", None)
    return query.urlencode()


@require_POST
@staff_required
def queue_bulk(request: HttpRequest) -> HttpResponse:
    """Assign the ticked leads to me, or close them as lost: each on its own (one
    that cannot move is named, the others go on)."""
    user = cast(User, request.user)
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_back(request))
    leads = lead_queue_for_user(user=user, filters=LeadFilters(), now=timezone.now())
    done, refused = 0, []
    for lead in leads.filter(code__in=form.cleaned_data["lead"]):
        try:
            if form.cleaned_data["action"] == "assign_me":
                lead_assign(lead=lead, owner=user, actor=user)
            else:
                lead_transition(
                    lead=lead,
                    to_status=Lead.Status.LOST,
                    actor=user,
                    lost_reason=form.cleaned_data["lost_reason"],
                )
        except BusinessError as error:
            refused.append(f"{lead.full_name}: {error.message}")
        else:
            done += 1
    messages.success(request, _("%(count)s leads changed.") % {"count": done})
    for reason in refused:
        messages.warning(request, reason)
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    """The queue as it was filtered when the leads were ticked."""
    query = request.POST.get("query", "")
    return f"{reverse('staff:queue')}?{query}" if query else reverse("staff:queue")

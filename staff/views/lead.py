"""One lead's page, readable in ten seconds, and its actions without leaving it:
log a call, add a note, move it, assign it, record a session attended, send a
follow-up again. Each action answers htmx with the page's body re-drawn, and a
browser without scripts with the page again (post, redirect, get)."""

import uuid
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from booking.models import Booking
from booking.selectors import lead_booking_list
from booking.services import booking_attended_record
from clinics.models import StaffMember
from clinics.selectors import staff_may_read_health, staff_role_get
from core.errors import BusinessError
from core.outbox import outbox_retry_now
from core.zones import clinic_zone
from followups.models import FollowUpMessage
from followups.selectors import lead_message_list
from followups.services import booking_link_send
from intake.selectors.questionnaires import treatment_names
from intake.selectors.submissions import submission_contact_get
from intake.services.health import submission_health_read_many
from leads.models import Lead
from leads.selectors import lead_event_list, lead_owner_choices, lead_submission_ids
from leads.services.assignment import lead_assign
from leads.services.merge import lead_merge
from leads.services.timeline import lead_call_log, lead_note_add, lead_transition
from staff.access import staff_required
from staff.forms import OUTCOME_WORDS, AssignForm, CallForm, NoteForm, StatusForm
from staff.selectors import queue_rows
from staff.timeline import timeline_entries
from staff.views.common import is_htmx, lead_or_404

TIMELINE_LENGTH = 200


@staff_required
def lead_page(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    lead = lead_or_404(request.user, code)
    return _render(request, lead)


def _render(
    request: HttpRequest, lead: Lead, *, status: int = 200, **bound: forms.Form
) -> HttpResponse:
    """The lead page (or, for htmx, its body), with `bound` forms in place of the
    empty ones (an action refused keeps what was typed, with its errors)."""
    user = cast(User, request.user)
    zone = clinic_zone(lead.location.time_zone)
    now = timezone.now()
    events = list(lead_event_list(lead=lead)[:TIMELINE_LENGTH])
    (row,) = queue_rows([lead], now=now)
    names = treatment_names(short=True)
    context: dict[str, Any] = {
        "lead": lead,
        "row": row,
        "zone": zone,
        "treatments": [
            {
                "name": names.get(t.treatment, t.treatment),
                "outcome": t.outcome,
                "words": OUTCOME_WORDS.get(t.outcome, t.outcome),
                "bookable_from": t.bookable_from,
            }
            for t in row.treatments
        ],
        "contact": submission_contact_get(
            submission_ids=lead_submission_ids(lead=lead)
        ),
        "timeline": timeline_entries(events, zone=zone),
        "bookings": lead_booking_list(lead=lead),
        "messages_sent": lead_message_list(lead=lead),
        "may_read_health": staff_may_read_health(user),
        "is_clinic_admin": staff_role_get(user) == StaffMember.Role.CLINIC_ADMIN,
        "call_form": bound.get("call_form") or CallForm(),
        "note_form": bound.get("note_form") or NoteForm(),
        "status_form": bound.get("status_form") or StatusForm(lead=lead),
        "assign_form": bound.get("assign_form")
        or AssignForm(
            initial={"owner": lead.owner_id},
            coordinators=lead_owner_choices(location=lead.location),
        ),
        "now": now.astimezone(zone),
    }
    template = "staff/_lead_body.html" if is_htmx(request) else "staff/lead.html"
    return render(request, template, context, status=status)


def _act(
    request: HttpRequest,
    lead: Lead,
    form_name: str,
    form: forms.Form,
    action: Callable[[Lead, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Run `action` with the valid form's data; a refusal (a business error) shows
    on the form, with what was typed."""
    if form.is_valid():
        try:
            action(lead, form.cleaned_data)
        except BusinessError as error:
            for field, errors in error.fields.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
            if not error.fields:
                form.add_error(None, error.message)
        else:
            messages.success(request, done)
            return _after(request, lead)
    # 422: htmx swaps it in (staff/base.html's htmx-config) to show the errors.
    return _render(request, lead, status=422, **{form_name: form})


@require_POST
@staff_required
def lead_call(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    user = cast(User, request.user)
    return _act(
        request,
        lead_or_404(user, code),
        "call_form",
        CallForm(request.POST),
        lambda lead, data: lead_call_log(
            lead=lead, outcome=data["outcome"], summary=data["summary"], actor=user
        ),
        _("Call logged."),
    )


@require_POST
@staff_required
def lead_note(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    user = cast(User, request.user)
    return _act(
        request,
        lead_or_404(user, code),
        "note_form",
        NoteForm(request.POST),
        lambda lead, data: lead_note_add(lead=lead, text=data["text"], actor=user),
        _("Note added."),
    )


@require_POST
@staff_required
def lead_status(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    user = cast(User, request.user)
    lead = lead_or_404(user, code)
    return _act(
        request,
        lead,
        "status_form",
        StatusForm(request.POST, lead=lead),
        lambda lead, data: lead_transition(
            lead=lead,
            to_status=data["to_status"],
            actor=user,
            lost_reason=data["lost_reason"],
            note=data["note"],
        ),
        _("Status changed."),
    )


@require_POST
@staff_required
def lead_assign_to(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    user = cast(User, request.user)
    lead = lead_or_404(user, code)
    return _act(
        request,
        lead,
        "assign_form",
        AssignForm(
            request.POST, coordinators=lead_owner_choices(location=lead.location)
        ),
        lambda lead, data: lead_assign(lead=lead, owner=data["owner"], actor=user),
        _("Owner changed."),
    )


@require_POST
@staff_required
def lead_attended(
    request: HttpRequest, code: uuid.UUID, booking: uuid.UUID
) -> HttpResponse:
    """Record that a session took place."""
    user = cast(User, request.user)
    lead = lead_or_404(user, code)
    found = Booking.objects.filter(lead=lead, code=booking).first()
    if found is None:
        raise Http404
    try:
        booking_attended_record(booking=found, by=user)
    except BusinessError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Recorded as attended."))
    return _after(request, lead)


@require_POST
@staff_required
def lead_link_send(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Email the person their link to choose a time."""
    lead = lead_or_404(request.user, code)
    try:
        booking_link_send(lead=lead)
    except BusinessError as error:
        messages.error(request, error.message)
    else:
        sent_to = {"email": lead.email}
        messages.success(
            request, _("The link to choose a time goes to %(email)s.") % sent_to
        )
    return _after(request, lead)


@require_POST
@staff_required
def lead_message_again(
    request: HttpRequest, code: uuid.UUID, message: int
) -> HttpResponse:
    """Send a failed or skipped follow-up again (a skipped one is asked again
    whether it is still wanted)."""
    lead = lead_or_404(request.user, code)
    if not FollowUpMessage.objects.filter(pk=message, lead=lead).exists():
        raise Http404
    if outbox_retry_now(FollowUpMessage, pk=message):
        messages.success(request, _("It goes again in a moment."))
    return _after(request, lead)


@require_POST
@staff_required
def lead_merge_with(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Fold the suggested duplicate (same phone, another name) into this lead."""
    user = cast(User, request.user)
    lead = lead_or_404(user, code)
    duplicate = lead.match_uncertain_with
    if duplicate is None or str(duplicate.code) != request.POST.get("duplicate"):
        messages.error(request, _("That is not the duplicate this lead suggests."))
        return _after(request, lead)
    try:
        lead_merge(lead=lead, duplicate=lead_or_404(user, duplicate.code), actor=user)
    except BusinessError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Merged: one person, one timeline."))
    return _after(request, lead)


@staff_required
def lead_health(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The lead's health answers and screening in words, for the roles that may
    read them: each read audited (intake's door), only when asked for."""
    lead = lead_or_404(request.user, code)
    if not staff_may_read_health(request.user):
        return render(request, "staff/_health_refused.html", status=403)
    read = submission_health_read_many(
        user=request.user, submission_ids=lead_submission_ids(lead=lead)
    )
    return render(
        request,
        "staff/_health.html",
        {
            "submissions": read,
            "outcome_words": OUTCOME_WORDS,
            "treatment_names": treatment_names(short=True),
        },
    )


def _after(request: HttpRequest, lead: Lead) -> HttpResponse:
    if is_htmx(request):
        return _render(request, lead_or_404(request.user, lead.code))
    return redirect(reverse("staff:lead", args=[lead.code]))

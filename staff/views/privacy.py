"""A person's rights over their data, as the clinic admin handles them: a copy of
everything held about them (a readable page, or JSON to send on) and erasure."""

import json
import uuid
from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from clinics.models import StaffMember
from clinics.selectors import staff_role_get
from leads.models import Lead, PersonalDataErasure
from leads.services.privacy import (
    lead_personal_data_erase,
    lead_personal_data_export,
    privacy_request_handle,
)
from staff.access import staff_required
from staff.views.common import lead_or_404

# Each app's part of the copy, by the name its holder registered (core.privacy).
SECTION_TITLES = {
    "intake": gettext_lazy("Questionnaires"),
    "leads": gettext_lazy("Lead and timeline"),
    "booking": gettext_lazy("Appointments"),
    "followups": gettext_lazy("Emails"),
}


class EraseForm(forms.Form):
    """Erasing cannot be undone: the admin types the lead's reference to confirm."""

    reference = forms.CharField(
        label=gettext_lazy("Type the lead's reference to confirm"), max_length=20
    )

    def __init__(self, *args: object, lead: Lead, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lead = lead

    def clean_reference(self) -> str:
        typed = str(self.cleaned_data["reference"]).strip().upper()
        if typed != self.lead.reference:
            raise forms.ValidationError(
                _("That is not this lead's reference (%(reference)s).")
                % {"reference": self.lead.reference}
            )
        return typed


def _clinic_admins_lead(request: HttpRequest, code: uuid.UUID) -> tuple[User, Lead]:
    user = cast(User, request.user)
    if staff_role_get(user) != StaffMember.Role.CLINIC_ADMIN:
        raise PermissionDenied
    return user, lead_or_404(user, code)


@staff_required
def personal_data(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Everything held about the lead's person; `?format=json` to download it.
    Reading it is audited like any read of health answers."""
    user, lead = _clinic_admins_lead(request, code)
    held = lead_personal_data_export(lead=lead, user=user)
    if request.GET.get("format") == "json":
        response = HttpResponse(
            json.dumps(held, ensure_ascii=False, indent=2),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="personal-data-{lead.reference}.json"'
        )
        return response
    return _page(request, lead, held, EraseForm(lead=lead))


def _page(
    request: HttpRequest,
    lead: Lead,
    held: dict[str, object],
    form: EraseForm,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "staff/personal_data.html",
        {
            "lead": lead,
            "sections": [
                (name, SECTION_TITLES.get(name, name), part)
                for name, part in held.items()
                if isinstance(part, dict)
            ],
            "erase_form": form,
            "erasures": PersonalDataErasure.objects.filter(lead=lead),
            "requests": lead.privacy_requests.filter(handled_at__isnull=True),
        },
        status=status,
    )


@staff_required
@require_POST
def personal_data_erase(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Erase the person's data once the reference typed matches."""
    user, lead = _clinic_admins_lead(request, code)
    form = EraseForm(request.POST, lead=lead)
    if not form.is_valid():
        held = lead_personal_data_export(lead=lead, user=user)
        return _page(request, lead, held, form, status=422)
    lead_personal_data_erase(
        lead=lead, reason=PersonalDataErasure.Reason.REQUEST, user=user
    )
    messages.success(
        request,
        _("%(reference)s's personal data is erased; what is counted stays.")
        % {"reference": lead.reference},
    )
    return redirect(reverse("staff:lead", args=[lead.code]))


@staff_required
@require_POST
def privacy_request_handled(
    request: HttpRequest, code: uuid.UUID, request_id: int
) -> HttpResponse:
    """The person's request was answered (their copy sent)."""
    user, lead = _clinic_admins_lead(request, code)
    privacy_request_handle(request_id=request_id, lead=lead, user=user)
    return redirect(reverse("staff:lead-personal-data", args=[lead.code]))

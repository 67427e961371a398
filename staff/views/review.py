"""The physician's queue: leads with a treatment waiting for a medical decision,
oldest first; each opens on the answers that caused the review, with each rule's
source, and a clear or decline per treatment, one click each."""

import uuid
from typing import cast

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import BusinessError
from core.zones import clinic_zone
from intake.screening.results import Outcome
from intake.selectors.questionnaires import treatment_name, treatment_names
from intake.services.health import submission_health_read_many
from leads.selectors import lead_submission_ids
from leads.services.review import lead_review_decide
from staff.access import physician_required
from staff.forms import OUTCOME_WORDS, DecisionForm
from staff.selectors import review_queue
from staff.views.common import lead_or_404


@physician_required
def review_list(request: HttpRequest) -> HttpResponse:
    rows = review_queue(user=request.user, now=timezone.now())
    return render(
        request,
        "staff/review_list.html",
        {"rows": rows, "treatment_names": treatment_names(short=True)},
    )


@physician_required
def review_lead(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The lead's newest answers as the rules read them (an audited read), the
    treatments still waiting first."""
    lead = lead_or_404(request.user, code)
    return _render(request, lead_code=lead.code)


def _render(
    request: HttpRequest,
    *,
    lead_code: uuid.UUID,
    form: DecisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    lead = lead_or_404(request.user, lead_code)
    read = submission_health_read_many(
        user=request.user, submission_ids=lead_submission_ids(lead=lead)
    )
    newest = read[-1] if read else None  # oldest first
    waiting = [
        t.treatment for t in lead.treatments.all() if t.outcome == Outcome.REVIEW
    ]
    explanations = newest.screening.explanations if newest else []
    names = treatment_names(short=True)
    context = {
        "lead": lead,
        "zone": clinic_zone(lead.location.time_zone),
        "submission": newest,
        "waiting": [
            {
                "code": code,
                "name": names.get(code, code),
                "explanation": next(
                    (e for e in explanations if e.treatment == code), None
                ),
                "form": form
                if form is not None and form.data.get("treatment") == code
                else DecisionForm(initial={"treatment": code}),
            }
            for code in waiting
        ],
        "decided": [
            {"name": names.get(e.treatment, e.treatment), "explanation": e}
            for e in explanations
            if e.treatment not in waiting
        ],
        "outcome_words": OUTCOME_WORDS,
    }
    return render(request, "staff/review_lead.html", context, status=status)


@require_POST
@physician_required
def review_decide(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """Clear or decline one treatment; the lead leaves the queue once nothing is
    left to decide."""
    physician = cast(User, request.user)
    lead = lead_or_404(physician, code)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decided = lead_review_decide(
                lead=lead,
                treatment=form.cleaned_data["treatment"],
                decision=form.cleaned_data["decision"],
                note=form.cleaned_data["note"],
                physician=physician,
            )
        except BusinessError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("%(treatment)s: decision recorded.")
                % {"treatment": treatment_name(form.cleaned_data["treatment"])},
            )
            still = decided.treatments.filter(outcome=Outcome.REVIEW).exists()
            if still:
                return redirect(reverse("staff:review-lead", args=[lead.code]))
            return redirect(reverse("staff:review"))
    return _render(request, lead_code=lead.code, form=form, status=422)

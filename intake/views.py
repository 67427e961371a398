"""The patient-facing questionnaire: start (consent), steps, save and resume, done.

The draft lives server-side; the browser holds only its session cookie, or the
signed link from the resume email. No health answer ever goes into a URL.
"""

import time
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from clinics.selectors import clinic_phone_get
from core.addresses import client_address
from core.errors import BusinessError
from core.security import embeddable
from intake.forms import (
    ASKED_AT_START,
    HONEYPOT,
    ResumeEmailForm,
    StartForm,
    StepForm,
    enable_when_json,
    step_questions,
)
from intake.models import IntakeDraft
from intake.photos import PhotoInvalid, photo_prepare
from intake.questionnaires.definition import (
    Definition,
    Item,
    item_is_enabled,
    length_ahead,
)
from intake.selectors.next_steps import booking_offer_get, next_step_list
from intake.selectors.questionnaires import (
    QuestionnaireUnavailable,
    location_list_active,
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.selectors.submissions import (
    intake_draft_answers,
    intake_draft_get,
    submission_get,
)
from intake.services.resume import (
    intake_draft_resume_link_send,
    intake_draft_resume_open,
)
from intake.services.submissions import (
    DraftGone,
    intake_draft_answers_save,
    intake_draft_contact_first,
    intake_draft_photos_replace,
    intake_draft_start,
    submission_submit_draft,
)
from intake.throttling import IntakeRateLimited
from intake.validators import adult_born_by, is_minor, localised

DRAFT_SESSION_KEY = "intake_draft"
# When this browser was last shown the start page: a start soon after counts on the
# tighter draft limit (intake.throttling.draft_limits_take).
START_SHOWN_SESSION_KEY = "intake_start_shown_at"
SUBMITTED_SESSION_KEY = "intake_submitted"
SOURCE_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@embeddable
@never_cache
@require_http_methods(["GET", "POST"])
def intake_start(request: HttpRequest) -> HttpResponse:
    """The first page: what this is, the privacy notice, and consent."""
    try:
        version = questionnaire_version_get_published()
    except QuestionnaireUnavailable:
        # Only before the first `manage.py load_intake_definitions` of a deployment.
        return render(request, "intake/unavailable.html", status=503)
    definition = questionnaire_definition_get(version)
    form = StartForm(request.POST if request.method == "POST" else None)
    refusal: IntakeRateLimited | None = None
    if request.method == "POST" and form.is_valid():
        shown_at = request.session.get(START_SHOWN_SESSION_KEY)
        try:
            draft = intake_draft_start(
                language=get_language() or "en",
                consent_health=True,
                source=_source(request),
                client_address=client_address(request),
                session_key=request.session.session_key,
                page_read=isinstance(shown_at, int | float)
                and time.time() - shown_at >= settings.INTAKE_START_READ_SECONDS,
            )
        except IntakeRateLimited as error:
            refusal = error
        else:
            request.session[DRAFT_SESSION_KEY] = str(draft.code)
            return redirect("intake:step", number=1)
    if request.method == "GET":
        request.session["intake_source"] = _source(request)
        request.session[START_SHOWN_SESSION_KEY] = time.time()
    response = render(
        request,
        "intake/start.html",
        {
            "form": form,
            "steps": _step_titles(definition),
            "shortest": length_ahead(definition, {}, skip=ASKED_AT_START),
            "longest": length_ahead(
                definition, {}, every_question=True, skip=ASKED_AT_START
            ),
            "title": localised(definition.title),
            "description": localised(definition.description),
            "privacy_notice": localised(definition.privacy_notice),
            "consent_text": localised(definition.item("consent_health").text),
            "refusal": refusal.message if refusal else "",
        },
        status=429 if refusal else 400 if form.errors else 200,
    )
    if refusal and refusal.retry_after:
        response["Retry-After"] = str(refusal.retry_after)
    return response


@embeddable
@never_cache
@require_http_methods(["GET", "POST"])
def intake_step(request: HttpRequest, number: int) -> HttpResponse:
    """One step: shows its questions, validates them, moves back or on."""
    draft = _session_draft(request)
    if draft is None:
        # Also a second click on "Send" that arrives after the first one finished.
        return _already_sent(request)
    definition = questionnaire_definition_get(draft.questionnaire_version)
    steps = definition.steps
    if not 1 <= number <= len(steps) or number > draft.step_reached:
        return redirect("intake:step", number=min(draft.step_reached, len(steps)))
    if draft.contact_first and 1 < number < len(steps):
        # Under 18 and to be called first: no health questions online.
        return redirect("intake:step", number=len(steps))
    step = steps[number - 1]
    answers = intake_draft_answers(draft)
    language = get_language() or "en"
    active = list(location_list_active())
    form = StepForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        definition=definition,
        step=step,
        earlier_answers=answers,
        locations=[(location.slug, location.name_in(language)) for location in active],
        phone_regions={location.slug: location.country for location in active},
        today=timezone.localdate(),
    )
    status = 200
    if request.method == "POST":
        try:
            response = _step_post(request, form, draft, number, len(steps))
        except DraftGone:
            return _already_sent(request)
        if response is not None:
            return response
        status = form.submit_error.status_code if form.submit_error else 400
    response = render(
        request,
        "intake/step.html",
        {
            "definition": definition,
            "form": form,
            "number": number,
            "steps": _step_titles(definition),
            "step_title": localised(step.text),
            "ahead": length_ahead(
                definition, answers, from_step=number, skip=ASKED_AT_START
            ),
            "questions": _questions(form, step, answers),
            "is_last": number == len(steps),
            "contact_first": draft.contact_first,
            "photo_count": draft.photos.count(),
            "resume_form": ResumeEmailForm(
                initial={"resume_email": answers.get("email", "")}
            ),
        },
        status=status,
    )
    if form.submit_error is not None and form.submit_error.retry_after:
        response["Retry-After"] = str(form.submit_error.retry_after)
    return response


def _step_post(
    request: HttpRequest, form: StepForm, draft: IntakeDraft, number: int, last: int
) -> HttpResponse | None:
    """Save the step and move on; None means: show the step again with its errors.

    "Back" and "Save and finish later" keep what can be kept of this page first, so
    nothing ticked here is lost, answered in full or not.
    """
    action = request.POST.get("action")
    if action in {"back", "save"}:
        form.is_valid()
        if HONEYPOT not in form.errors:
            intake_draft_answers_save(
                draft=draft, answers=form.partial_answers(), step_reached=number
            )
        if action == "save":
            _resume_link_send(request, draft)
            return redirect("intake:step", number=number)
        back = 1 if draft.contact_first else max(number - 1, 1)
        return redirect("intake:step", number=back)
    if not (form.is_valid() and _keep_photos(form, draft)):
        return None
    intake_draft_answers_save(
        draft=draft, answers=form.answers, step_reached=number + 1
    )
    if number < last:
        birth_date = form.answers.get("birth_date")
        if isinstance(birth_date, str) and is_minor(birth_date):
            # Told at once, before any health question: the guardian path.
            return redirect("intake:guardian")
        return redirect("intake:step", number=number + 1)
    try:
        outcome = submission_submit_draft(
            draft=draft, client_address=client_address(request)
        )
    except DraftGone:
        raise  # not a message for the form: the caller redirects
    except BusinessError as error:
        form.submit_error = error
        form.add_error(None, error.message)
        return None
    code = str(outcome.submission.code)
    submitted = [*request.session.get(SUBMITTED_SESSION_KEY, []), code][-5:]
    request.session[SUBMITTED_SESSION_KEY] = submitted
    request.session.pop(DRAFT_SESSION_KEY, None)
    return redirect("intake:done", code=code)


def _resume_link_send(request: HttpRequest, draft: IntakeDraft) -> None:
    """Email a link that resumes this draft on any device; the outcome as a message."""
    form = ResumeEmailForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for e in form.errors["resume_email"]))
        return
    try:
        intake_draft_resume_link_send(
            draft=draft,
            email=form.cleaned_data["resume_email"],
            client_address=client_address(request),
        )
    except BusinessError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("We have emailed you a link to continue. It works for %(days)d days.")
            % {"days": settings.INTAKE_DRAFT_DAYS},
        )


@embeddable
@never_cache
@require_http_methods(["GET", "POST"])
def intake_guardian(request: HttpRequest) -> HttpResponse:
    """For someone under 18, before the health questions: what happens next, and
    the choice to leave only their contact details for a coordinator."""
    draft = _session_draft(request)
    if draft is None:
        return _already_sent(request)
    if request.method == "POST":
        try:
            last = intake_draft_contact_first(draft=draft)
        except BusinessError as error:
            messages.error(request, error.message)
            return redirect("intake:step", number=draft.step_reached)
        return redirect("intake:step", number=last)
    definition = questionnaire_definition_get(draft.questionnaire_version)
    next_step = min(draft.step_reached, len(definition.steps))
    return render(
        request,
        "intake/guardian.html",
        {"next_step": next_step, "phone": clinic_phone_get()},
    )


def _already_sent(request: HttpRequest) -> HttpResponse:
    """Where a request for a finished draft goes: its next steps, else the start."""
    submitted = request.session.get(SUBMITTED_SESSION_KEY)
    if submitted:
        return redirect("intake:done", code=submitted[-1])
    return redirect("intake:start")


def _keep_photos(form: StepForm, draft: IntakeDraft) -> bool:
    if not form.files_uploaded:
        return True
    item = next(i for i in step_questions(form.step) if i.type == "attachment")
    limit = item.max_attachments or 3
    if len(form.files_uploaded) > limit:
        form.add_error(
            item.link_id, _("Please choose up to %(limit)d photos.") % {"limit": limit}
        )
        return False
    try:
        prepared = [photo_prepare(f, size=f.size or 0) for f in form.files_uploaded]
    except PhotoInvalid as error:
        form.add_error(item.link_id, str(error))
        return False
    intake_draft_photos_replace(draft=draft, photos=prepared)
    return True


@embeddable
@never_cache
def intake_resume(request: HttpRequest, token: str) -> HttpResponse:
    """Open a draft from its emailed link, then continue where the person left off."""
    draft = intake_draft_resume_open(token=token)
    if draft is None:
        return render(request, "intake/resume_expired.html", status=410)
    request.session.cycle_key()
    request.session[DRAFT_SESSION_KEY] = str(draft.code)
    return redirect("intake:step", number=draft.step_reached)


@embeddable
@never_cache
def intake_done(request: HttpRequest, code: UUID) -> HttpResponse:
    """What happens next, for the person who just sent the questionnaire."""
    if str(code) not in request.session.get(SUBMITTED_SESSION_KEY, []):
        raise Http404
    submission = submission_get(code=code)
    if submission is None:
        raise Http404
    language = get_language() or submission.language
    steps = next_step_list(submission, language=language)
    offer = booking_offer_get(submission, steps=steps, language=language)
    # The treatments with times offered: bookable now, or from a deferral's date.
    offered = {a.treatment for a in offer.appointments} if offer else set()
    bookable_now = {step.treatment for step in steps if step.kind == "book"}
    return render(
        request,
        "intake/done.html",
        {
            "submission": submission,
            "next_steps": steps,
            "offer": offer,
            "offered": offered,
            "bookable_now": bookable_now,
            "offered_now": offered & bookable_now,
        },
    )


def _session_draft(request: HttpRequest) -> IntakeDraft | None:
    code = request.session.get(DRAFT_SESSION_KEY)
    return intake_draft_get(code=code) if code else None


def _source(request: HttpRequest) -> dict[str, str]:
    source = {
        name: request.GET[name][:200] for name in SOURCE_FIELDS if name in request.GET
    }
    referrer = request.META.get("HTTP_REFERER", "")
    if referrer:
        # Only the origin and path: a query string can carry anything.
        source["referrer"] = referrer.split("?", 1)[0][:300]
    stored: dict[str, str] = request.session.get("intake_source", {})
    return {**stored, **source}


def _describe(form: StepForm, item: Item) -> None:
    """Tie the input to its hint and its errors, for screen readers.

    Radio and checkbox groups get this on their fieldset, in the template.
    """
    if item.type in {"choice", "boolean"} and not item.link_id.startswith("consent_"):
        return
    ids = []
    if item.help:
        ids.append(f"{item.link_id}-help")
    if item.link_id in form.errors:
        ids.append(f"{item.link_id}-errors")
    if ids:
        form.fields[item.link_id].widget.attrs["aria-describedby"] = " ".join(ids)


def _step_titles(definition: Definition) -> list[str]:
    return [localised(step.text) for step in definition.steps]


def _questions(
    form: StepForm, step: Item, answers: dict[str, Any]
) -> list[dict[str, Any]]:
    """What the template shows for each question, in order, hidden ones marked."""
    current = {**answers, **form.answers}
    shown: list[dict[str, Any]] = []
    for item in step.items:
        if item.type == "display":
            shown.append({"item": item, "text": localised(item.text), "display": True})
            continue
        if item.link_id not in form.fields:
            continue
        _describe(form, item)
        gate_here = any(c.question in form.fields for c in item.enable_when)
        enabled = item_is_enabled(item, current)
        if not enabled and not gate_here:
            continue
        shown.append(
            {
                "item": item,
                "field": form[item.link_id],
                "text": localised(item.text),
                "help": localised(item.help) if item.help else "",
                # Without JavaScript a same-step follow-up stays visible; the script
                # hides it until its gate question is answered that way.
                "enable_when": enable_when_json(item) if gate_here else "",
                "exclusive": " ".join(o.code for o in item.options if o.exclusive),
                "is_group": item.type in {"choice", "boolean"}
                and not item.link_id.startswith("consent_"),
                # The page's script tells someone under 18 at once, as they type.
                "minor_after": adult_born_by().isoformat()
                if item.link_id == "birth_date"
                else "",
            }
        )
    return shown

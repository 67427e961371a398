"""The person's unsubscribe and preferences page, and their data page, behind the
signed link every follow-up carries (followups.unsubscribe).

RFC 8058: a mail app's one-click POST (`List-Unsubscribe=One-Click`) unsubscribes
with no login, cookie or CSRF token; a GET only shows the page and asks, because
mail scanners follow links.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from followups.models import Suppression
from followups.selectors import lead_for_link, suppression_get
from followups.services import suppression_set
from followups.unsubscribe import unsubscribe_token_read
from leads.models import PrivacyRequest
from leads.services.privacy import lead_consent_withdraw, privacy_request_record

# What the person may ask for on their data page, by its button.
YOUR_DATA_REQUESTS = {
    "copy": PrivacyRequest.Kind.COPY,
    "erasure": PrivacyRequest.Kind.ERASURE,
}
# The page's choices; "none": receive follow-ups again.
CHOICES = {
    "all": Suppression.Scope.ALL,
    "marketing": Suppression.Scope.MARKETING,
    "none": None,
}


@csrf_exempt  # the one-click POST comes from a mail app, with no token or cookie
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    read = unsubscribe_token_read(token)
    lead = lead_for_link(code=read[0]) if read else None
    if read is None or lead is None:
        raise Http404
    email_key, language = lead.email_key, read[1]
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") == "One-Click":
            suppression_set(email_key=email_key, scope=Suppression.Scope.ALL)
            return HttpResponse("Unsubscribed.", content_type="text/plain")
        choice = request.POST.get("choice", "all")
        if choice not in CHOICES:  # not one of the page's: nothing changes
            return redirect(request.path)
        suppression_set(email_key=email_key, scope=CHOICES[choice])
        return redirect(f"{request.path}?saved=1")
    changed = request.GET.get("saved") == "1"
    with translation.override(language):
        return render(
            request,
            "followups/unsubscribe.html",
            {
                "stopped": suppression_get(email_key=email_key),
                "changed": changed,
                "language": language,
                "token": token,
            },
        )


@never_cache
@require_http_methods(["GET", "POST"])
def your_data(request: HttpRequest, token: str) -> HttpResponse:
    """The person's rights over their data, behind the same signed link: ask for a
    copy or for erasure (the clinic answers within a month), or withdraw their
    consent, which stops everything at once. Nothing of theirs is shown here:
    whoever holds the link sees only what they may ask."""
    read = unsubscribe_token_read(token)
    lead = lead_for_link(code=read[0]) if read else None
    if read is None or lead is None:
        raise Http404
    language = read[1]
    with translation.override(language):
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "withdraw" and request.POST.get("confirm") == "yes":
                lead_consent_withdraw(lead=lead)
                return redirect(f"{request.path}?done=withdrawn")
            if action in YOUR_DATA_REQUESTS:
                privacy_request_record(lead=lead, kind=YOUR_DATA_REQUESTS[action])
                return redirect(f"{request.path}?done={action}")
            return render(
                request,
                "followups/your_data.html",
                {"erased": None, "done": "", "confirm_missing": action == "withdraw"},
                status=422,
            )
        return render(
            request,
            "followups/your_data.html",
            {"erased": lead.erasures.first(), "done": request.GET.get("done", "")},
        )

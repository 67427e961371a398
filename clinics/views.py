"""The clinic's own look on patient pages: its colours and its logo."""

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from clinics.selectors import clinic_branding_get, clinic_logo_get

# The address carries the branding's version: a change is a new address.
CACHE_FOR = "public, max-age=86400"


@require_GET
def branding_css(request: HttpRequest, version: str) -> HttpResponse:
    """The clinic's colours as CSS variables over static/css/site.css."""
    branding = clinic_branding_get()
    css = (
        f":root {{ --accent: {branding.colour_accent}; "
        f"--ink: {branding.colour_ink}; }}\n"
    )
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = CACHE_FOR
    return response


@require_GET
def logo(request: HttpRequest, version: str) -> HttpResponse:
    found = clinic_logo_get()
    if found is None:
        raise Http404
    content, content_type = found
    response = HttpResponse(content, content_type=content_type)
    response["Cache-Control"] = CACHE_FOR
    response["X-Content-Type-Options"] = "nosniff"
    return response

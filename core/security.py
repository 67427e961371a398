"""Response headers that keep patient data on this server and out of caches.

Patient pages carry health answers: no script, font, image or frame from anyone else may
load beside them, so nothing can read or send those answers elsewhere. No page may be
framed by another site (clickjacking), except the patient pages marked `embeddable`, and
only by the clinic's own sites listed in INTAKE_EMBED_ORIGINS. Pages and API
answers carry names and health data: none may stay in a browser's or a proxy's cache
unless its view says it may. Header values that HTTP forbids (NUL, CR, LF) are refused
before a view could store or look them up.
"""

import re
from collections.abc import Callable
from functools import update_wrapper
from typing import Concatenate, ParamSpec

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers

from core.error_responses import API_PREFIX, error_body

_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    # Inline style attributes (Swagger UI, the admin) cannot exfiltrate data.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)
CONTENT_SECURITY_POLICY = "; ".join((*_POLICY, "frame-ancestors 'none'"))
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
# RFC 9110 5.5 forbids these in a field value; a lone surrogate only a test client
# can send, and no database column holds either.
_BAD_HEADER_VALUE = re.compile("[\x00\r\n\ud800-\udfff]")


_P = ParamSpec("_P")


def embeddable(
    view: Callable[Concatenate[HttpRequest, _P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, _P], HttpResponse]:
    """Let the clinic's own sites (INTAKE_EMBED_ORIGINS) show this page in a frame.

    For patient pages only: a page with staff actions framed by another site could be
    clicked through unseen. The middleware decides per response (the setting may
    change in tests); with no site listed the page is as unframeable as the rest.
    """

    def wrapper(
        request: HttpRequest, /, *args: _P.args, **kwargs: _P.kwargs
    ) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response.embeddable = True  # type: ignore[attr-defined]
        # X-Frame-Options cannot name origins; frame-ancestors does (the middleware).
        response.xframe_options_exempt = True
        return response

    update_wrapper(wrapper, view)
    return wrapper


def _frame_ancestors(response: HttpResponse) -> list[str]:
    """The sites besides this one that may frame `response`; none for most."""
    if getattr(response, "embeddable", False):
        origins: list[str] = settings.INTAKE_EMBED_ORIGINS
        return origins
    return []


def _allow_framing(
    request: HttpRequest, response: HttpResponse, origins: list[str]
) -> None:
    """Frame-ancestors for `origins`, and cookies that a framed page receives.

    In a frame on the clinic's site the page is a third party: browsers send it
    SameSite=Lax cookies only when both sites share a registrable domain (as
    localhost does on any port, over plain http). So over HTTPS the cookies this
    page sets (session, CSRF) go out SameSite=None; Secure. Other pages keep Lax:
    signing in sets the staff session and CSRF cookies again. A signed-in staff
    member opening a patient page keeps Lax: their session is never downgraded.
    """
    response.headers.setdefault(
        "Content-Security-Policy",
        "; ".join((*_POLICY, f"frame-ancestors 'self' {' '.join(origins)}")),
    )
    user = getattr(request, "user", None)
    if request.is_secure() and not (user is not None and user.is_authenticated):
        for cookie in response.cookies.values():
            cookie["samesite"] = "None"
            cookie["secure"] = True


def _bad_header(request: HttpRequest) -> str | None:
    """The name of the first request header whose value HTTP forbids, if any."""
    for key, value in request.META.items():
        if (
            key.startswith("HTTP_")
            and isinstance(value, str)
            and _BAD_HEADER_VALUE.search(value)
        ):
            return key.removeprefix("HTTP_").replace("_", "-").title()
    return None


def _bad_header_response(request: HttpRequest, name: str) -> HttpResponse:
    message = "Remove the NUL, CR or LF character from this header."
    if request.path.startswith(API_PREFIX):
        body = error_body("Some fields need attention.", "invalid", {name: [message]})
        return JsonResponse(body, status=400)
    return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain")


def _too_large(request: HttpRequest) -> bool:
    """Whether the body the client announces is over REQUEST_BODY_MAX_BYTES: then
    it is refused before a byte of it is read (a chunked body with no length is
    bounded by the proxy in front and by Django's own limits)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False  # Django answers a malformed length itself
    most: int = settings.REQUEST_BODY_MAX_BYTES
    return length > most


def _too_large_response(request: HttpRequest) -> HttpResponse:
    most_mb = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
    if request.path.startswith(API_PREFIX):
        message = f"The request body is larger than {most_mb} MB."
        return JsonResponse(error_body(message, "body_too_large"), status=413)
    return render(request, "413.html", {"most_mb": most_mb}, status=413)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad_header = _bad_header(request)
        if bad_header is not None:
            response = _bad_header_response(request, bad_header)
        elif _too_large(request):
            response = _too_large_response(request)
        else:
            response = self.get_response(request)
        origins = _frame_ancestors(response)
        if origins:
            _allow_framing(request, response, origins)
        else:
            response.headers.setdefault(
                "Content-Security-Policy", CONTENT_SECURITY_POLICY
            )
            if getattr(response, "embeddable", False):
                # Exempt from XFrameOptionsMiddleware, yet no site is listed.
                response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Cache-Control" not in response.headers:
            # What a view does not mark cacheable is treated as personal data.
            add_never_cache_headers(response)
        return response

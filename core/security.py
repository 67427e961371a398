"""Response headers that keep patient data on this server and out of caches.

Patient pages carry health answers: no script, font, image or frame from anyone else may
load beside them, so nothing can read or send those answers elsewhere. Pages and API
answers carry names and health data: none may stay in a browser's or a proxy's cache
unless its view says it may. Header values that HTTP forbids (NUL, CR, LF) are refused
before a view could store or look them up.
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.cache import add_never_cache_headers

from core.error_responses import API_PREFIX, error_body

CONTENT_SECURITY_POLICY = "; ".join(
    (
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
        "frame-ancestors 'none'",
    )
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
# RFC 9110 5.5 forbids these in a field value; a lone surrogate only a test client
# can send, and no database column holds either.
_BAD_HEADER_VALUE = re.compile("[\x00\r\n\ud800-\udfff]")


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


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad_header = _bad_header(request)
        if bad_header is None:
            response = self.get_response(request)
        else:
            response = _bad_header_response(request, bad_header)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if "Cache-Control" not in response.headers:
            # What a view does not mark cacheable is treated as personal data.
            add_never_cache_headers(response)
        return response

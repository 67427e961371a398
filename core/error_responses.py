"""API conventions: one error body shape for every failure.

Every error answers `{"message": str, "code": str, "fields": {name: [str, ...]}}`, with
field names as the client sent them, so a form can put each message by its field.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import BusinessError
from core.parsers import BodyTooLarge

API_PREFIX = "/api/"
# How the schema names that body wherever an endpoint may answer with it.
ERROR_RESPONSE = OpenApiResponse(description="The error body: message, code, fields.")


def error_body(message: str, code: str, fields: Any = None) -> dict[str, Any]:
    return {"message": message, "code": code, "fields": fields or {}}


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: the error shape under /api/, the HTML page elsewhere."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler; the error itself is logged, without request data."""
    if request.path.startswith(API_PREFIX):
        body = error_body(
            "Something went wrong on our side. Please try again.", "server_error"
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


def _messages(detail: Any) -> Any:
    """Plain strings from DRF's nested error details, keeping the nesting."""
    if isinstance(detail, dict):
        return {str(key): _messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_messages(item) for item in detail]
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Over DATA_UPLOAD_MAX_MEMORY_SIZE, raised as DRF reads request.body.
        exc = BodyTooLarge()

    if isinstance(exc, BusinessError):
        set_rollback()
        retry = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        return Response(
            error_body(exc.message, exc.code, exc.fields),
            status=exc.status_code,
            headers=retry,
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling, which logs it without request data

    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]

    if isinstance(exc, exceptions.ValidationError):
        fields = (
            exc.detail
            if isinstance(exc.detail, dict)
            else {"non_field_errors": exc.detail}
        )
        body = error_body("Some fields need attention.", "invalid", _messages(fields))
    else:
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else exc.default_code
        body = error_body(str(exc.detail), code)
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)

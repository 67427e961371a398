"""API conventions: one error body shape for every failure.

Every error answers `{"message": str, "code": str, "fields": {name: [str, ...]}}`, with
field names as the client sent them, so a form can put each message by its field.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import BusinessError


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

    if isinstance(exc, BusinessError):
        set_rollback()
        body = {"message": exc.message, "code": exc.code, "fields": exc.fields}
        return Response(body, status=exc.status_code)

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
        body = {
            "message": "Some fields need attention.",
            "code": "invalid",
            "fields": _messages(fields),
        }
    else:
        codes = exc.get_codes()
        body = {
            "message": str(exc.detail),
            "code": codes if isinstance(codes, str) else exc.default_code,
            "fields": {},
        }
    set_rollback()
    return Response(body, status=exc.status_code, headers=headers)

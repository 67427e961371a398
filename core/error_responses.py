"""API conventions: one error body shape for every failure.

Every error answers `{"message": str, "code": str, "fields": {name: [str, ...]}}`, with
field names as the client sent them, so a form can put each message by its field.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import BusinessError
from core.parsers import BodyTooLarge

API_PREFIX = "/api/"


class ErrorSerializer(serializers.Serializer[Any]):
    """The error body, as the schema describes it (named `Error` there)."""

    message = serializers.CharField(help_text="For a person, in their language.")
    code = serializers.CharField(help_text="Stable, for a program: e.g. `invalid`.")
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.JSONField(),
        help_text="The messages of each field, by the name the client sent.",
    )


def error_response(description: str) -> OpenApiResponse:
    """A documented failure answered with the error body."""
    return OpenApiResponse(response=ErrorSerializer, description=description)


# How the schema names that body wherever an endpoint may answer with it.
ERROR_RESPONSE = error_response("The error body: message, code, fields.")

_ERROR_CONTENT = {
    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
}
_OPERATION_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
# What the layers every request passes may answer, whichever view it is for.
_SIGN_IN_REFUSED = {
    "description": "No credentials, or a token that is wrong, expired or revoked.",
    "headers": {
        "WWW-Authenticate": {"schema": {"type": "string"}, "required": True},
    },
    "content": _ERROR_CONTENT,
}
_TOKENS_LOCKED_OUT = {
    "description": "Too many wrong tokens from this address: token_locked_out. "
    "Try again after Retry-After seconds.",
    "headers": {
        "Retry-After": {"schema": {"type": "integer"}, "required": True},
    },
    "content": _ERROR_CONTENT,
}
_BODY_TOO_LARGE = {
    "description": "A body over REQUEST_BODY_MAX_BYTES: body_too_large.",
    "content": _ERROR_CONTENT,
}


def schema_layer_errors_add(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing: document on every operation what sign-in
    (401, and 429 for an address locked out by wrong tokens) and the body limit
    (413, where a body is read) answer before its view runs."""
    for path in result.get("paths", {}).values():
        for method in _OPERATION_METHODS:
            operation = path.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            security = operation.get("security", [])
            if security and {} not in security:
                responses.setdefault("401", _SIGN_IN_REFUSED)
                responses.setdefault("429", _TOKENS_LOCKED_OUT)
            if "requestBody" in operation:
                responses.setdefault("413", _BODY_TOO_LARGE)
    return result


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

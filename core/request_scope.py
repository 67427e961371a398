"""A web request's scope, opened and closed around its view by
RequestScopeMiddleware: the configuration token it reads once (core.config_cache),
and a memo its later steps may take from instead of reading again what its earlier
ones wrote (the lead a submission just made, for the booking offer in the same
response). Nothing outlives the view, whether or not its response is ever closed;
outside a request the memo keeps nothing."""

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.config_cache import config_request_scope

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("request_memo", default=None)


def request_memo_put(key: Hashable, value: Any) -> None:
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def request_memo_get(key: Hashable) -> Any:
    """What this request put under `key`, or None."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)


class RequestScopeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        opened = _memo.set({})
        try:
            with config_request_scope():
                return self.get_response(request)
        finally:
            _memo.reset(opened)

"""The API's token sign-in: `Authorization: Token <key>`, with keys that expire and
can be revoked (clinics.services), and a lock-out of addresses that keep sending
wrong keys.

A wrong or malformed key counts a failure against the client's network address
(core.lockouts; an IPv6 address's /64); after API_TOKEN_LOCKOUT_FAILURES in
API_TOKEN_LOCKOUT_WINDOW_MINUTES, token requests from there answer 429
`token_locked_out` with Retry-After for API_TOKEN_LOCKOUT_MINUTES, before any key is
looked at. Expired and revoked keys are real keys, not guesses: refused, not counted,
so one stale integration does not lock out its neighbours.
"""

from typing import Any

from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from clinics.models import ApiToken
from clinics.services import ApiTokenRefused, api_token_authenticate
from core.addresses import address_network, client_address
from core.lockouts import Lockout, lockout_failure_record, lockout_wait

WRONG_TOKENS = Lockout(
    scope="api-token:address",
    failures_setting="API_TOKEN_LOCKOUT_FAILURES",
    window_setting="API_TOKEN_LOCKOUT_WINDOW_MINUTES",
    cooloff_setting="API_TOKEN_LOCKOUT_MINUTES",
)


class TokenLockedOut(exceptions.APIException):
    """Too many wrong keys from this address: wait `wait` seconds (Retry-After)."""

    status_code = 429
    default_code = "token_locked_out"
    default_detail = _(
        "Too many wrong tokens were sent from your address. Try again later."
    )

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.wait = wait


class ApiTokenAuthentication(BaseAuthentication):
    """DRF authentication by an ApiToken key; the keyword stays DRF's `Token`, so
    clients of the old never-expiring tokens change only their key."""

    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None
        network = address_network(client_address(request._request))
        wait = lockout_wait(WRONG_TOKENS, network)
        if wait is not None:
            raise TokenLockedOut(wait)
        if len(words) != 2:  # the keyword and the key
            self._failed(network)
            raise exceptions.AuthenticationFailed(
                _("Invalid token header: give the keyword, a space, then the key.")
            )
        try:
            key = words[1].decode("ascii")
        except UnicodeDecodeError:
            self._failed(network)
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        try:
            token = api_token_authenticate(key=key)
        except ApiTokenRefused as refused:
            if refused.code == ApiTokenRefused.code:
                self._failed(network)
            raise exceptions.AuthenticationFailed(
                refused.message, code=refused.code
            ) from None
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword

    @staticmethod
    def _failed(network: str) -> None:
        # The request that reaches the limit is still told why it failed; the
        # next one from there is refused.
        lockout_failure_record(WRONG_TOKENS, network)


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """The schema's name for the sign-in (registered by defining it, next to the
    class, which settings import before any schema is built)."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> Any:
        return build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=ApiTokenAuthentication.keyword
        )

"""The clinic's state changes: API tokens made, used and revoked."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clinics.models import ApiToken
from clinics.selectors import Role, staff_role_get
from clinics.tokens import key_make, key_matches, key_prefix
from core.errors import BusinessError

logger = logging.getLogger(__name__)

API_TOKEN_MAX_DAYS = 365
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length or 100
# last_used_at is a hint for people ("is this key still in use?"), not an audit:
# written at most once a minute, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiTokenInvalid(BusinessError):
    code = "invalid"


class ApiTokenNotFound(BusinessError):
    code = "not_found"
    status_code = 404


class ApiTokenRefused(BusinessError):
    """A key that does not sign in: unknown (`authentication_failed`), expired
    (`token_expired`), revoked (`token_revoked`), or its login switched off
    (`user_inactive`)."""

    code = "authentication_failed"
    status_code = 401


def api_token_create(
    *, user: User, name: str, days: int | None = None
) -> tuple[ApiToken, str]:
    """Make a token for `user` that works for `days` (API_TOKEN_DAYS when None,
    1 to 365); the token and its key, which nothing can show again."""
    name = name.strip()
    days = settings.API_TOKEN_DAYS if days is None else days
    problems: dict[str, list[str]] = {}
    if not name:
        problems["name"] = [_("Give the token a name, e.g. what it is for.")]
    elif len(name) > NAME_MAX_LENGTH:
        problems["name"] = [
            _("At most %(count)d characters.") % {"count": NAME_MAX_LENGTH}
        ]
    if not 1 <= days <= API_TOKEN_MAX_DAYS:
        problems["days"] = [_("From 1 to %(max)d days.") % {"max": API_TOKEN_MAX_DAYS}]
    if problems:
        raise ApiTokenInvalid(_("Some fields need attention."), fields=problems)
    now = timezone.now()
    # Two keys share a prefix once in about four billion: draw again.
    for _attempt in range(5):
        new = key_make()
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=new.prefix,
                    key_digest=new.digest,
                    created_at=now,
                    expires_at=now + dt.timedelta(days=days),
                )
        except IntegrityError:
            if ApiToken.objects.filter(prefix=new.prefix).exists():
                continue
            raise
        logger.info("api token %s made for user %s", token.pk, user.pk)
        return token, new.key
    raise RuntimeError("no free API token prefix after 5 draws")


def api_token_revoke(*, token_id: int, by: User) -> ApiToken:
    """Revoke the token: its owner or a clinic admin may; anyone else finds no such
    token (ApiTokenNotFound). Idempotent: a revoked token keeps its first time."""
    token = ApiToken.objects.filter(pk=token_id).first()
    if token is None or (
        token.user_id != by.pk and staff_role_get(by) != Role.CLINIC_ADMIN
    ):
        raise ApiTokenNotFound(_("No such token."))
    now = timezone.now()
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=by
    )
    if revoked:
        logger.info("api token %s revoked by user %s", token.pk, by.pk)
    token.refresh_from_db()
    return token


def api_token_authenticate(*, key: str) -> ApiToken:
    """The active token whose key is `key`, its last use noted (at most once a
    minute); ApiTokenRefused for an unknown, expired or revoked key, or one whose
    login is inactive."""
    prefix = key_prefix(key)
    token = (
        ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if prefix
        else None
    )
    if token is None or not key_matches(key, token.key_digest):
        raise ApiTokenRefused(_("Invalid token."))
    now = timezone.now()
    status = token.status_at(now)
    if status == ApiToken.Status.REVOKED:
        raise ApiTokenRefused(
            _("This token was revoked. Make a new one on the API tokens page."),
            code="token_revoked",
        )
    if status == ApiToken.Status.EXPIRED:
        raise ApiTokenRefused(
            _("This token expired. Make a new one on the API tokens page."),
            code="token_expired",
        )
    if not token.user.is_active:
        raise ApiTokenRefused(
            _("This token's login is switched off."), code="user_inactive"
        )
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional: of concurrent requests, one writes.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token

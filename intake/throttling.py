"""Abuse limits on the public questionnaire, kept in the cache (Redis when configured).

Each limit counts what an abuser has to spend: a draft, a session, an email address,
a phone number; the network address only as a generous outer bound, because many
people share one (carrier-grade NAT, a clinic's Wi-Fi). Keys are HMACs under the
SECRET_KEY: the cache holds no address, email, phone or session key. Only accepted
work counts: a caller takes its hits once the work is valid, and a refusal gives
them back. The limits protect the clinic, not the patient's answers: when the cache
cannot be reached they fail open with a warning, so a Redis outage never stops intake.
"""

import logging
import math
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from clinics.selectors import clinic_phone_get
from core.addresses import address_network, keyed_digest
from core.errors import BusinessError

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE = re.compile(r"\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*")
# What a cache backend raises when its server is away: redis-py's errors, and the
# socket errors of backends that do not wrap them.
CACHE_UNREACHABLE = (RedisError, OSError)
# Addresses that reach one inbox: Gmail ignores dots and has a second domain.
DOTLESS_DOMAINS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


class IntakeRateLimited(BusinessError):
    """Past a limit: the message names the wait and the clinic's phone."""

    code = "rate_limited"
    status_code = 429


# The location whose phone a refusal gives: a slug, or a callable giving one.
LocationSlug = str | Callable[[], str | None] | None


@dataclass(frozen=True)
class Limit:
    """One limit: what it counts (`scope`), the setting with its rate, and the
    first sentence of its refusal."""

    scope: str
    setting: str
    refusal: Promise


SUBMISSION_PER_ADDRESS = Limit(
    "submission:address",
    "INTAKE_RATE_LIMIT",
    gettext_lazy(
        "Too many questionnaires were sent from your network just now. Your answers "
        "are kept."
    ),
)
SUBMISSION_PER_EMAIL = Limit(
    "submission:email",
    "INTAKE_RATE_LIMIT_EMAIL",
    gettext_lazy(
        "Several questionnaires were sent with this email address recently. Your "
        "answers are kept."
    ),
)
SUBMISSION_PER_PHONE = Limit(
    "submission:phone",
    "INTAKE_RATE_LIMIT_PHONE",
    gettext_lazy(
        "Several questionnaires were sent with this phone number recently. Your "
        "answers are kept."
    ),
)
DRAFT_PER_ADDRESS = Limit(
    "draft:address",
    "INTAKE_DRAFT_RATE_LIMIT",
    gettext_lazy("Too many questionnaires were started from your network just now."),
)
DRAFT_PER_ADDRESS_READ = Limit(
    "draft:address-read",
    "INTAKE_DRAFT_RATE_LIMIT_READ",
    DRAFT_PER_ADDRESS.refusal,
)
DRAFT_PER_SESSION = Limit(
    "draft:session",
    "INTAKE_DRAFT_RATE_LIMIT_SESSION",
    gettext_lazy("Too many questionnaires were started in this browser just now."),
)
RESUME_PER_ADDRESS = Limit(
    "resume:address",
    "INTAKE_RESUME_RATE_LIMIT",
    gettext_lazy("Too many links were requested from your network just now."),
)


@dataclass(frozen=True)
class Hits:
    """The counters one take added to, so that a later failure can give them back."""

    keys: tuple[str, ...] = ()


def rate_parse(rate: str) -> tuple[int, int]:
    """ "5/hour" -> (5, 3600); "30/10minutes" -> (30, 600)."""
    found = RATE.fullmatch(rate)
    if found is None:
        raise ValueError(f"not a rate: {rate!r} (e.g. 5/hour, 30/10minutes)")
    count, periods, period = found.groups()
    return int(count), int(periods or 1) * PERIODS[period]


def email_normalise(email: str) -> str:
    """One spelling per inbox: lower case, no "+tag", no dots at Gmail."""
    local, _at, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in DOTLESS_DOMAINS:
        local, domain = local.replace(".", ""), DOTLESS_DOMAINS[domain]
    return f"{local}@{domain}"


def phone_normalise_digits(phone: str) -> str:
    """The digits of a phone number (the submission's phone is E.164 already)."""
    return re.sub(r"\D", "", phone)


def limit_digest(scope: str, value: str) -> str:
    """What the cache and the database's locks know of `value`: a keyed hash."""
    return keyed_digest(scope, value)


def limits_take(
    counted: Sequence[tuple[Limit, str]], *, location_slug: LocationSlug = None
) -> Hits:
    """Count one hit on each (limit, value); IntakeRateLimited past any of them.

    A refusal gives every hit of this call back, so refused work never counts. The
    refusal waits for the longest of the windows it is past, and gives the phone of
    `location_slug` (else the first active location; a callable is asked only for a
    refusal). An unreachable cache lets the work through (logged, never raised).
    """
    windows = []
    for limit, value in counted:
        allowed, seconds = rate_parse(getattr(settings, limit.setting))
        key = f"intake:limit:{limit.scope}:{limit_digest(limit.scope, value)}"
        windows.append((limit, key, allowed, seconds))
    taken = [key for _, key, _, _ in windows]
    past: list[tuple[Limit, int]] = []
    try:
        counts = _hits([(key, seconds) for _, key, _, seconds in windows])
        for (limit, _, allowed, _), (count, remaining) in zip(
            windows, counts, strict=True
        ):
            if count > allowed:
                past.append((limit, remaining))
        if past:
            limits_give_back(Hits(tuple(taken)))
    except CACHE_UNREACHABLE as error:
        logger.warning(
            "rate limit cache unreachable (%s); let through", type(error).__name__
        )
        return Hits()
    if past:
        limit, wait = max(past, key=lambda refused: refused[1])
        raise rate_limited(
            str(limit.refusal), retry_after=wait, location_slug=location_slug
        )
    return Hits(tuple(taken))


def limits_give_back(hits: Hits) -> None:
    """Undo a take whose work was not accepted after all (never raises)."""
    for key in hits.keys:
        try:
            cache.decr(key)
        except ValueError:  # the window ended meanwhile: nothing to give back
            pass
        except CACHE_UNREACHABLE as error:
            logger.warning(
                "rate limit cache unreachable (%s); hit kept", type(error).__name__
            )
            return


def submission_limits_take(
    *, address: str, email: str, phone: str, location_slug: str
) -> Hits:
    """Count one accepted submission on its email, its phone and its address."""
    return limits_take(
        [
            (SUBMISSION_PER_EMAIL, email_normalise(email)),
            (SUBMISSION_PER_PHONE, phone_normalise_digits(phone)),
            (SUBMISSION_PER_ADDRESS, address_network(address)),
        ],
        location_slug=location_slug,
    )


def draft_limits_take(*, address: str, session_key: str | None, read: bool) -> Hits:
    """Count one new draft on its session and its address.

    A start made seconds after the page was shown (`read` false), as a script makes
    them, counts on the tighter INTAKE_DRAFT_RATE_LIMIT; one made after reading the
    page counts on the generous INTAKE_DRAFT_RATE_LIMIT_READ, so a flood of quick
    starts does not lock out the next person behind the same address.
    """
    limit = DRAFT_PER_ADDRESS_READ if read else DRAFT_PER_ADDRESS
    counted = [(limit, address_network(address))]
    if session_key:
        counted.insert(0, (DRAFT_PER_SESSION, session_key))
    return limits_take(counted)


def rate_limited(
    refusal: str, *, retry_after: int, location_slug: LocationSlug = None
) -> IntakeRateLimited:
    """The refusal: what happened, when to try again, and whom to call meanwhile."""
    wait = _("Please try again in %(wait)s.") % {"wait": wait_text(retry_after)}
    parts = [refusal, wait]
    slug = location_slug() if callable(location_slug) else location_slug
    phone = clinic_phone_get(location_slug=slug)
    if phone:
        parts.append(
            _("If it cannot wait, please call us on %(phone)s.") % {"phone": phone}
        )
    error = IntakeRateLimited(" ".join(parts))
    error.retry_after = retry_after
    return error


def wait_text(seconds: int) -> str:
    """A wait as people say it: "about 20 minutes", "about 2 hours"."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 90:
        return ngettext(
            "about %(count)d minute", "about %(count)d minutes", minutes
        ) % {"count": minutes}
    hours = round(minutes / 60)
    return ngettext("about %(count)d hour", "about %(count)d hours", hours) % {
        "count": hours
    }


def _hits(windows: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
    """Count one hit on each (key, fixed window of seconds): each key's new total
    and the whole seconds left in its window. On Redis, one round trip for all of
    them (a submission counts three); on another cache, a few calls per key."""
    if isinstance(cache, RedisCache):
        return _redis_hits(windows)
    now = time.time()
    return [_hit(key, seconds=seconds, now=now) for key, seconds in windows]


def _redis_hits(windows: Sequence[tuple[str, int]]) -> list[tuple[int, int]]:
    # The keys as Django's cache writes them, so that cache.decr gives hits back.
    keys = [(cache.make_and_validate_key(key), seconds) for key, seconds in windows]
    client = cast(Any, cache)._cache.get_client(keys[0][0], write=True)
    pipeline = client.pipeline(transaction=False)
    for key, seconds in keys:
        pipeline.set(key, 0, ex=seconds, nx=True)  # a new window starts at 0
        pipeline.incr(key)
        pipeline.ttl(key)
    replies = pipeline.execute()
    return [
        (int(replies[3 * n + 1]), max(1, min(seconds, int(replies[3 * n + 2]))))
        for n, (_, seconds) in enumerate(keys)
    ]


def _hit(key: str, *, seconds: int, now: float) -> tuple[int, int]:
    """Count one hit on `key` in a fixed window of `seconds`: the new total and
    the seconds left. The cache API has no ttl(), so a new window also records its
    end."""
    if cache.add(key, 0, timeout=seconds):
        cache.set(f"{key}:until", now + seconds, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        cache.set(f"{key}:until", now + seconds, timeout=seconds)
        count = 1
    until = cache.get(f"{key}:until")
    if not isinstance(until, int | float):
        return count, seconds
    return count, max(1, min(seconds, math.ceil(until - now)))


class FailOpenScopedRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, letting requests through while the cache is away."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except CACHE_UNREACHABLE as error:
            logger.warning(
                "throttle cache unreachable (%s); request let through",
                type(error).__name__,
            )
            return True

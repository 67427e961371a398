"""Per-address limits on new submissions, kept in the cache (Redis when configured).

The limits protect the clinic, not the patient's answers: when the cache cannot be
reached they fail open with a warning, so a Redis outage never stops intake.
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.errors import BusinessError

logger = logging.getLogger(__name__)

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# What a cache backend raises when its server is away: redis-py's errors, and the
# socket errors of backends that do not wrap them.
CACHE_UNREACHABLE = (RedisError, OSError)


class SubmissionRateLimited(BusinessError):
    code = "rate_limited"
    status_code = 429


def rate_parse(rate: str) -> tuple[int, int]:
    """ "5/hour" -> (5, 3600)."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip()]


def _count(key: str, *, seconds: int) -> int:
    """Count one hit on `key` in a fixed window of `seconds`; the new total."""
    cache.add(key, 0, timeout=seconds)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        return 1


def submission_rate_limit_check(*, address: str) -> None:
    """Count one new submission from `address`; SubmissionRateLimited past the limit.

    A fixed window per address; the address is hashed so the cache holds no IP.
    An unreachable cache lets the submission through (logged, never raised).
    """
    limit, seconds = rate_parse(settings.INTAKE_RATE_LIMIT)
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()
    try:
        count = _count(f"intake:rate:{digest[:32]}", seconds=seconds)
    except CACHE_UNREACHABLE as error:
        logger.warning(
            "rate limit cache unreachable (%s); submission let through",
            type(error).__name__,
        )
        return
    if count > limit:
        raise SubmissionRateLimited(
            "Too many questionnaires were sent from your network just now. Your "
            "answers are kept: please try again later.",
        )


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

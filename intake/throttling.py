"""Per-address limits on new submissions, kept in the cache (Redis when configured)."""

import hashlib

from django.conf import settings
from django.core.cache import cache

from core.errors import BusinessError

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class SubmissionRateLimited(BusinessError):
    code = "rate_limited"
    status_code = 429


def rate_parse(rate: str) -> tuple[int, int]:
    """ "5/hour" -> (5, 3600)."""
    count, _slash, period = rate.partition("/")
    return int(count), PERIODS[period.strip()]


def submission_rate_limit_check(*, address: str) -> None:
    """Count one new submission from `address`; SubmissionRateLimited past the limit.

    A fixed window per address; the address is hashed so the cache holds no IP.
    """
    limit, seconds = rate_parse(settings.INTAKE_RATE_LIMIT)
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()
    key = f"intake:rate:{digest[:32]}"
    cache.add(key, 0, timeout=seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds)
        count = 1
    if count > limit:
        raise SubmissionRateLimited(
            "Too many questionnaires were sent from your network just now. Your "
            "answers are kept: please try again later.",
        )

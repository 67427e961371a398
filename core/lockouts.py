"""Lock-outs after repeated failures (wrong API tokens from one address), kept in
the cache (Redis when configured).

A lock-out counts failures for one value in a fixed window; the failure that
reaches the limit locks the value for a cool-off, during which callers refuse
without checking what was sent. Keys are HMACs (core.addresses.keyed_digest): the
cache holds no address. When the cache cannot be reached, nothing is locked and
nothing counted (a warning is logged, without the value): a Redis outage must not
sign every integration out.
"""

import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from core.addresses import keyed_digest

logger = logging.getLogger(__name__)

# What a cache backend raises when its server is away: redis-py's errors, and the
# socket errors of backends that do not wrap them.
CACHE_UNREACHABLE = (RedisError, OSError)


@dataclass(frozen=True)
class Lockout:
    """One lock-out: what it counts (`scope`) and the names of its settings."""

    scope: str
    failures_setting: str  # failures in the window that lock
    window_setting: str  # minutes the failures are counted in
    cooloff_setting: str  # minutes a lock lasts


def lockout_wait(lockout: Lockout, value: str) -> int | None:
    """Whole seconds until `value` may try again, or None when it is not locked
    (or the cache is unreachable: fail open)."""
    key = _key(lockout, value)
    try:
        until = cache.get(f"{key}:until")
    except CACHE_UNREACHABLE as error:
        _warn(lockout, error)
        return None
    if not isinstance(until, int | float):
        return None
    remaining = math.ceil(until - time.time())
    return remaining if remaining > 0 else None


def lockout_failure_record(lockout: Lockout, value: str) -> int | None:
    """Count one failure of `value`; the one that reaches the limit locks it for
    the cool-off. The wait when it is now locked, else None (never raises)."""
    limit: int = getattr(settings, lockout.failures_setting)
    window = 60 * int(getattr(settings, lockout.window_setting))
    cooloff = 60 * int(getattr(settings, lockout.cooloff_setting))
    key = _key(lockout, value)
    now = time.time()
    try:
        cache.add(f"{key}:failures", 0, timeout=window)
        try:
            failures = cache.incr(f"{key}:failures")
        except ValueError:  # the window ended between add and incr
            cache.set(f"{key}:failures", 1, timeout=window)
            failures = 1
        if failures < limit:
            return None
        cache.set(f"{key}:until", now + cooloff, timeout=cooloff)
        # After the cool-off the count starts again from nothing.
        cache.delete(f"{key}:failures")
    except CACHE_UNREACHABLE as error:
        _warn(lockout, error)
        return None
    logger.warning("lock-out %s: %d failures from one client", lockout.scope, limit)
    return cooloff


def _key(lockout: Lockout, value: str) -> str:
    return f"lockout:{lockout.scope}:{keyed_digest(lockout.scope, value)}"


def _warn(lockout: Lockout, error: Exception) -> None:
    logger.warning(
        "lock-out cache unreachable (%s); %s not counted",
        type(error).__name__,
        lockout.scope,
    )

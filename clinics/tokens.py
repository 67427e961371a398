"""API keys: their format, and the one-way digest that is all the database keeps.

A key reads `cl_<prefix>_<secret>`: the prefix (8 hex characters) is not secret and
finds the row (shown in lists so a person recognises a key); the secret is
`secrets.token_urlsafe(32)`, 256 random bits. With that much randomness a plain
SHA-256 is enough (a slow password hash protects guessable secrets, not these);
the digest is compared in constant time.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_START = "cl_"
PREFIX_LENGTH = 8
KEY_FORMAT = re.compile(r"cl_(?P<prefix>[0-9a-f]{8})_(?P<secret>[A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewKey:
    """A key as made: the whole key (shown once), its prefix and its digest."""

    key: str
    prefix: str
    digest: str


def key_make() -> NewKey:
    """A fresh random key (its prefix may, rarely, be taken already)."""
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    key = f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(key=key, prefix=prefix, digest=key_digest(key))


def key_prefix(key: str) -> str | None:
    """The prefix of a well-formed key, None for anything else."""
    found = KEY_FORMAT.fullmatch(key)
    return found.group("prefix") if found else None


def key_digest(key: str) -> str:
    """The SHA-256 of the key, as the database stores it (hex)."""
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(key: str, digest: str) -> bool:
    """Whether `key` is the one whose digest is stored (constant time)."""
    return hmac.compare_digest(key_digest(key), digest)

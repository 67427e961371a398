"""Fernet key lists from settings: newest key first, any listed key decrypts.

Health data (HEALTH_DATA_KEYS) and stored credentials (SECRET_DATA_KEYS) have their
own lists, so a leaked key of one never opens the other. A key is rotated by putting
a new one in front, re-encrypting what is stored, then dropping the old one.
"""

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def cipher_from_setting(name: str) -> MultiFernet:
    """The MultiFernet for the keys listed in setting `name`; loud when unusable."""
    keys: list[str] = list(getattr(settings, name))
    if not keys:
        raise ImproperlyConfigured(f"{name} must name at least one key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            f"Each {name} entry must be a Fernet key "
            "(32 url-safe base64-encoded bytes)."
        ) from error


class CiphertextUnreadable(Exception):
    """A stored value no configured key can decrypt (a key was dropped too early)."""

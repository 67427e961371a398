"""Encryption at rest for health data (special-category personal data).

Keys come from settings.HEALTH_DATA_KEYS, newest first: new data is encrypted with
the first key and any listed key decrypts, so a key is rotated by putting a new one
in front and running `manage.py health_data_reencrypt` before dropping the old one.
"""

import json
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet

from core.ciphers import CiphertextUnreadable, cipher_from_setting


class HealthDataUnreadable(CiphertextUnreadable):
    """A stored value no configured key can decrypt (a key was dropped too early)."""


def health_cipher() -> MultiFernet:
    """The MultiFernet for HEALTH_DATA_KEYS."""
    return cipher_from_setting("HEALTH_DATA_KEYS")


def health_data_encrypt(value: Any) -> str:
    """Encrypt a JSON-serialisable value with the newest key."""
    plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
    return health_cipher().encrypt(plain).decode()


def health_data_decrypt(token: str) -> Any:
    """Decrypt a value stored by health_data_encrypt, with any configured key."""
    try:
        plain = health_cipher().decrypt(token.encode())
    except InvalidToken as error:
        raise HealthDataUnreadable("No configured key decrypts this value.") from error
    return json.loads(plain)


def health_bytes_encrypt(data: bytes) -> bytes:
    """Encrypt raw bytes (a photo) with the newest key."""
    return health_cipher().encrypt(data)


def health_bytes_decrypt(token: bytes) -> bytes:
    """Decrypt bytes stored by health_bytes_encrypt."""
    try:
        return health_cipher().decrypt(token)
    except InvalidToken as error:
        raise HealthDataUnreadable("No configured key decrypts this value.") from error


def health_token_rotate(token: str) -> str:
    """Re-encrypt a stored token with the newest key (same plaintext)."""
    return health_cipher().rotate(token.encode()).decode()


def health_bytes_rotate(token: bytes) -> bytes:
    """Re-encrypt stored bytes with the newest key."""
    return health_cipher().rotate(token)

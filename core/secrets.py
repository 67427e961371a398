"""Encryption at rest for credentials the clinic stores (a calendar's password).

Keys come from settings.SECRET_DATA_KEYS, newest first: a value is encrypted with the
first key and any listed key decrypts, so a key is rotated by putting a new one in
front, re-saving the values (`secret_rotate`), then dropping the old one. Separate
from the health-data keys: a leaked credential key must not open health answers.
"""

from cryptography.fernet import InvalidToken, MultiFernet

from core.ciphers import CiphertextUnreadable, cipher_from_setting


class SecretUnreadable(CiphertextUnreadable):
    """A stored value no configured key can decrypt (a key was dropped too early)."""


def secret_cipher() -> MultiFernet:
    """The MultiFernet for SECRET_DATA_KEYS."""
    return cipher_from_setting("SECRET_DATA_KEYS")


def secret_encrypt(plain: str) -> str:
    """`plain` encrypted with the newest key; "" stays "" (nothing stored)."""
    if not plain:
        return ""
    return secret_cipher().encrypt(plain.encode()).decode()


def secret_decrypt(token: str) -> str:
    """The text stored by secret_encrypt, with any configured key; "" for ""."""
    if not token:
        return ""
    try:
        return secret_cipher().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("No configured key decrypts this value.") from error


def secret_rotate(token: str) -> str:
    """The same text, re-encrypted with the newest key."""
    if not token:
        return ""
    try:
        return secret_cipher().rotate(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable("No configured key decrypts this value.") from error

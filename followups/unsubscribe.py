"""The signed address of a person's unsubscribe and preferences page.

The token holds the lead's code (a random id, not the address: URLs end up in
access logs) and the person's language, signed with the site's secret: it needs no
login. It does not expire, since an unsubscribe link must keep working in an old
message.
"""

import uuid

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "followups.unsubscribe"


def unsubscribe_token(*, lead_code: uuid.UUID, language: str) -> str:
    return signing.dumps([lead_code.hex, language], salt=SALT)


def unsubscribe_token_read(token: str) -> tuple[uuid.UUID, str] | None:
    """(lead code, language), or None for a token this site did not sign."""
    try:
        code, language = signing.loads(token, salt=SALT)
        return uuid.UUID(hex=code), str(language)
    except (signing.BadSignature, ValueError, TypeError):
        return None


def unsubscribe_url(*, lead_code: uuid.UUID, language: str) -> str:
    token = unsubscribe_token(lead_code=lead_code, language=language)
    return str(settings.SITE_URL).rstrip("/") + reverse(
        "followups:unsubscribe", kwargs={"token": token}
    )

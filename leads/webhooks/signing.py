"""The X-Clinic-Signature header: HMAC-SHA256 of the timestamp and the body bytes.

Signing the timestamp with the body lets a receiver refuse old replays; see
docs/webhooks.md for the scheme and a receiver's check.
"""

import hashlib
import hmac


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>`."""
    digest = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"

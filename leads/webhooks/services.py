"""Webhook use cases: record an event for every subscribed endpoint, send a delivery."""

from typing import Any

from leads.models import Lead


def webhook_event_record(
    *, event_type: str, lead: Lead, data: dict[str, Any] | None = None
) -> None:
    """Record `event_type` for `lead` for each subscribed endpoint (in the caller's
    transaction) and send the deliveries once it commits."""
    raise NotImplementedError

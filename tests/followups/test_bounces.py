"""The mail provider's bounce and complaint webhooks (django-anymail, Mailgun's
format): only a signed, authenticated call stops email to an address, and the
person's lead says so."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from core.models import DeliveryStatus
from followups.models import FollowUpMessage, Suppression
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from leads.models import LeadEvent
from tests.support.submitting import lead_of, submit

URL = "/anymail/mailgun/tracking/"
AUTH = "Basic " + base64.b64encode(b"provider:test-webhook-secret").decode()
SIGNING_KEY = b"test-mailgun-signing-key"  # config/settings/test.py


def _event(
    event: str,
    recipient: str,
    *,
    severity: str = "",
    key: bytes = SIGNING_KEY,
    message_id: str = "someone.else@clinic.example",
) -> str:
    timestamp, token = str(int(time.time())), uuid.uuid4().hex
    signature = hmac.new(
        key, f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    data: dict[str, Any] = {
        "event": event,
        "recipient": recipient,
        "timestamp": time.time(),
        "id": uuid.uuid4().hex,
        "message": {"headers": {"message-id": message_id}},
    }
    if severity:
        data["severity"] = severity
    return json.dumps(
        {
            "signature": {
                "timestamp": timestamp,
                "token": token,
                "signature": signature,
            },
            "event-data": data,
        }
    )


def _post(body: str, *, auth: str | None = AUTH) -> int:
    headers = {"Authorization": auth} if auth else {}
    response = Client().post(
        URL, body, content_type="application/json", headers=headers
    )
    return response.status_code


@pytest.mark.parametrize(
    ("event", "severity", "reason"),
    [("failed", "permanent", "bounced"), ("complained", "", "complained")],
)
def test_a_hard_bounce_or_a_complaint_stops_email_and_shows_on_the_lead(
    published: QuestionnaireVersion, event: str, severity: str, reason: str
) -> None:
    lead = lead_of(submit(published))
    acknowledgment = FollowUpMessage.objects.get()
    followup_message_send(message_id=acknowledgment.pk)
    acknowledgment.refresh_from_db()
    mail.outbox.clear()

    # The provider writes the address its own way: matching still finds the person.
    sent_as = acknowledgment.message_id.strip("<>")
    bounce = _event(event, lead.email.upper(), severity=severity, message_id=sent_as)
    assert _post(bounce) == 200

    assert (Suppression.objects.get().email_key, Suppression.objects.get().reason) == (
        lead.email_key,
        reason,
    )
    shown = lead.events.get(kind=LeadEvent.Kind.EMAIL_UNDELIVERABLE)
    assert shown.data == {"reason": reason}
    acknowledgment.refresh_from_db()
    assert acknowledgment.bounced_at is not None  # the message it was about
    submit(published)  # the person writes again: nothing goes to that address
    followup_message_send(message_id=FollowUpMessage.objects.latest("pk").pk)
    assert mail.outbox == []
    assert FollowUpMessage.objects.latest("pk").status == DeliveryStatus.SKIPPED


def test_a_temporary_failure_stops_nothing(published: QuestionnaireVersion) -> None:
    lead = lead_of(submit(published))

    assert _post(_event("failed", lead.email, severity="temporary")) == 200

    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    ("key", "auth"),
    [(b"someone-elses-key", AUTH), (SIGNING_KEY, None), (SIGNING_KEY, "Basic eDp5")],
    ids=["bad-signature", "no-secret", "wrong-secret"],
)
def test_an_unsigned_or_unauthenticated_call_changes_nothing(
    published: QuestionnaireVersion, key: bytes, auth: str | None
) -> None:
    lead = lead_of(submit(published))

    status = _post(_event("complained", lead.email, key=key), auth=auth)

    assert status in {400, 401, 403}
    assert not Suppression.objects.exists()
    assert not lead.events.filter(kind=LeadEvent.Kind.EMAIL_UNDELIVERABLE).exists()

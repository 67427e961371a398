"""A mail server that says "try again later" twice: the message goes once, on the
third attempt, with every attempt on its row."""

from pathlib import Path

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from tests.support.smtp import running_smtp_server
from tests.support.submitting import submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_two_temporary_refusals_then_sent_once_after_retries(
    published: QuestionnaireVersion, tmp_path: Path
) -> None:
    submit(published)
    acknowledgment = FollowUpMessage.objects.get()

    with (
        running_smtp_server(tmp_path / "maildir", refuse_first=2) as smtp,
        override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=smtp.port,
            EMAIL_USE_TLS=False,
        ),
    ):
        outcomes = []
        for _attempt in range(4):
            outcomes.append(followup_message_send(message_id=acknowledgment.pk))
            acknowledgment.refresh_from_db()
            if acknowledgment.status == DeliveryStatus.PENDING:
                # The backoff's wait, passed at once.
                acknowledgment.next_attempt_at = timezone.now()
                acknowledgment.save(update_fields=["next_attempt_at"])
        received = smtp.messages()

    assert outcomes == [False, False, True, False]  # the fourth finds it sent
    assert (acknowledgment.status, acknowledgment.attempts) == (DeliveryStatus.SENT, 3)
    assert len(received) == 1
    assert received[0]["Message-ID"] == acknowledgment.message_id

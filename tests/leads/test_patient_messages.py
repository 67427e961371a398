"""The person is told kindly, in their language, when a treatment is declined."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from clinics.models import Location
from core.models import DeliveryStatus
from intake.models import QuestionnaireVersion
from leads.models import Lead, LeadEvent, PatientMessage
from leads.services import patient_messages
from leads.services.patient_messages import patient_message_send
from leads.services.review import lead_review_decide
from leads.tasks import patient_message_send_task
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(patient_message_send_task, "delay", sent.append)
    return sent


@pytest.fixture
def physician(location: Location) -> User:
    member = StaffMemberFactory.create(role="physician", locations=[location])
    return member.user


def _declined(
    version: QuestionnaireVersion, physician: User, treatment: str = "mesotherapy"
) -> Lead:
    lead = lead_of(submit(version, blood_thinners=["aspirin"], preferred_language="tr"))
    return lead_review_decide(
        lead=lead,
        treatment=treatment,
        decision="declined",
        note="Aspirin and a bleeding history: not injections.",
        physician=physician,
    )


def test_a_declined_treatment_sends_the_patient_one_kind_email_in_their_language(
    published: QuestionnaireVersion,
    physician: User,
    enqueued: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        lead = _declined(published, physician)

    assert len(enqueued) == 1
    assert patient_message_send(message_id=enqueued[0]) is True
    assert patient_message_send(message_id=enqueued[0]) is False  # never twice

    (email,) = mail.outbox
    assert email.to == [lead.email]
    assert email.subject.endswith("başvurunuz hakkında")
    assert "K vitamini mezoterapisi" in email.body
    assert "teşhis değildir" in email.body
    assert "numarasından" not in email.body  # the location has no phone to offer
    # Nothing of the answers or the physician's reasons leaves the clinic.
    assert "spirin" not in email.body
    assert "bleeding" not in email.body
    event = lead.events.get(kind=LeadEvent.Kind.EMAIL_SENT)
    assert event.data == {"message": "treatment_declined", "topic": "mesotherapy"}


def test_declining_a_treatment_again_does_not_email_the_patient_again(
    published: QuestionnaireVersion, physician: User, enqueued: list[int]
) -> None:
    lead = _declined(published, physician)
    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="declined",
        note="Confirmed after the call.",
        physician=physician,
    )

    assert PatientMessage.objects.filter(lead=lead).count() == 1


def test_a_message_the_mail_server_refused_waits_for_a_retry(
    published: QuestionnaireVersion,
    physician: User,
    enqueued: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("mail server away")

    lead = _declined(published, physician)
    message = PatientMessage.objects.get(lead=lead)
    monkeypatch.setattr(patient_messages, "send_mail", refused)

    assert patient_message_send(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == DeliveryStatus.PENDING
    assert message.attempts == 1
    assert not lead.events.filter(kind=LeadEvent.Kind.EMAIL_SENT).exists()

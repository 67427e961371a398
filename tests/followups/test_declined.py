"""The person is told kindly, in their language, when a physician declines a
treatment: a follow-up on the decision, once per treatment, never a reason."""

import pytest
from django.contrib.auth.models import User
from django.core import mail

from clinics.models import Location
from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from leads.models import Lead
from leads.services.review import lead_review_decide
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit


@pytest.fixture
def physician(location: Location) -> User:
    member = StaffMemberFactory.create(role="physician", locations=[location])
    return member.user


def _decide(lead: Lead, physician: User, treatment: str, note: str) -> Lead:
    return lead_review_decide(
        lead=lead,
        treatment=treatment,
        decision="declined",
        note=note,
        physician=physician,
    )


def _declined_messages(lead: Lead) -> list[FollowUpMessage]:
    return list(
        FollowUpMessage.objects.filter(lead=lead, step__template_key="declined")
    )


def test_a_declined_treatment_sends_the_patient_one_kind_email_in_their_language(
    published: QuestionnaireVersion, physician: User
) -> None:
    lead = lead_of(
        submit(published, blood_thinners=["aspirin"], preferred_language="tr")
    )
    _decide(lead, physician, "mesotherapy", "Aspirin and a bleeding history.")
    (message,) = _declined_messages(lead)
    mail.outbox.clear()

    assert followup_message_send(message_id=message.pk) is True
    assert followup_message_send(message_id=message.pk) is False  # never twice

    (email,) = mail.outbox
    assert email.to == [lead.email]
    assert email.subject.endswith("başvurunuz hakkında")
    assert "K vitamini mezoterapisi" in email.body
    assert "teşhis değildir" in email.body
    assert "numarasından" not in email.body  # the location has no phone to offer
    # Nothing of the answers or the physician's reasons leaves the clinic.
    assert "spirin" not in email.body.lower()
    assert "bleeding" not in email.body


def test_declining_a_treatment_again_does_not_email_the_patient_again(
    published: QuestionnaireVersion, physician: User
) -> None:
    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    _decide(lead, physician, "mesotherapy", "Not injections.")
    _decide(lead, physician, "mesotherapy", "Confirmed after the call.")

    assert len(_declined_messages(lead)) == 1


def test_two_treatments_declined_are_each_told(
    published: QuestionnaireVersion, physician: User
) -> None:
    # Under 18: both treatments wait for a physician.
    lead = lead_of(submit(published, birth_date="2010-03-01", preferred_language="en"))
    _decide(lead, physician, "mesotherapy", "Not now.")
    _decide(lead, physician, "laser_ipl", "Not now.")
    mail.outbox.clear()

    for message in _declined_messages(lead):
        followup_message_send(message_id=message.pk)

    bodies = sorted(email.body for email in mail.outbox)
    assert len(bodies) == 2
    assert any("Laser" in body for body in bodies)
    assert any("mesotherapy" in body for body in bodies)


def test_a_message_the_mail_server_refused_waits_for_a_retry(
    published: QuestionnaireVersion,
    physician: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise ConnectionRefusedError("mail server away")

    lead = lead_of(submit(published, blood_thinners=["aspirin"]))
    _decide(lead, physician, "mesotherapy", "Not injections.")
    (message,) = _declined_messages(lead)
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refused)

    assert followup_message_send(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == DeliveryStatus.PENDING
    assert message.attempts == 1

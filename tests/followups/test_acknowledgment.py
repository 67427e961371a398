"""The acknowledgment: made with the submission, sent in the person's language with
both parts and a one-click unsubscribe, once; and stopped for whoever asked."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from booking.links import booking_link_lead
from booking.models import AppointmentType
from core.models import DeliveryStatus
from followups.models import Category, FollowUpMessage, Sequence, Step, Suppression
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.answers import complete_answers
from tests.support.submitting import lead_of, submit


def _send_all() -> None:
    for message_id in FollowUpMessage.objects.values_list("pk", flat=True):
        followup_message_send(message_id=message_id)


def _unsubscribe_path(message: mail.EmailMessage) -> str:
    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<https://") or header.startswith("<http://")
    return str(urlsplit(header.strip("<>")).path)


def test_a_submission_through_the_api_is_acknowledged_with_its_booking_link(
    api_client: APIClient, published: QuestionnaireVersion, session: AppointmentType
) -> None:
    response = api_client.post(
        "/api/v1/submissions",
        {
            "answers": complete_answers(
                treatments_wanted=["mesotherapy"], preferred_language="en"
            )
        },
        format="json",
    )
    assert response.status_code == 201
    assert FollowUpMessage.objects.count() == 1  # written with the submission

    _send_all()
    _send_all()  # a second run sends nothing: the row says sent

    (message,) = mail.outbox
    assert isinstance(message, mail.EmailMultiAlternatives)
    lead = Lead.objects.get()
    assert message.to == [lead.email]
    assert message.subject == "We have your questionnaire, Ayşe"
    assert "you can choose a time now." in message.body
    # The API's link and the email's both open this lead's booking page. Each is
    # signed when it is made, so they differ when a second passes between them.
    emailed = re.search(r"You can choose your time now: (\S+)", str(message.body))
    assert emailed is not None
    for url in (emailed[1], response.json()["booking"]["url"]):
        assert booking_link_lead(urlsplit(url).path.split("/")[3]) == lead
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    assert "Choose your time</a>" in str(html)
    assert message.extra_headers["List-Unsubscribe-Post"] == (
        "List-Unsubscribe=One-Click"
    )
    row = FollowUpMessage.objects.get()
    assert (row.status, row.message_id) == (
        DeliveryStatus.SENT,
        message.extra_headers["Message-ID"],
    )


def test_the_acknowledgment_is_in_turkish_for_a_turkish_speaker_and_says_no_reason(
    published: QuestionnaireVersion,
) -> None:
    submit(published, preferred_language="tr", blood_thinners=["aspirin"])

    _send_all()

    (message,) = mail.outbox
    assert message.subject == "Anketinizi aldık, Ayşe"
    assert "Bundan sonra ne olacak:" in message.body
    assert "hekimlerimizden biri önce yanıtlarınıza bakar" in message.body
    # The rule's reason (a blood thinner) is for the physician, not the inbox.
    assert "aspirin" not in message.body.lower()
    assert "kan sulandırıcı" not in message.body.lower()
    assert "Randevu saatinizi şimdi seçebilirsiniz" not in message.body


def test_one_click_unsubscribes_without_login_cookie_or_csrf_token(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published))
    _send_all()
    (message,) = mail.outbox
    path = _unsubscribe_path(message)
    mail_app = Client(enforce_csrf_checks=True)

    looked = mail_app.get(path)  # a scanner following the link changes nothing
    assert looked.status_code == 200
    assert not Suppression.objects.exists()

    clicked = mail_app.post(path, {"List-Unsubscribe": "One-Click"})

    assert clicked.status_code == 200
    assert Suppression.objects.get().email_key == lead.email_key
    submit(published)  # the same person writes again
    mail.outbox.clear()
    _send_all()
    assert mail.outbox == []
    assert FollowUpMessage.objects.filter(status=DeliveryStatus.SKIPPED).count() == 1


def test_the_preferences_page_lets_the_person_keep_reminders_or_resume(
    published: QuestionnaireVersion,
) -> None:
    submit(published, preferred_language="en")
    _send_all()
    path = _unsubscribe_path(mail.outbox[0])
    client = Client(enforce_csrf_checks=True)

    page = client.post(path, {"choice": "marketing"}, follow=True)

    shown = page.content.decode()
    assert "Saved. Thank you for telling us." in shown
    assert "You receive reminders about your enquiry and appointments" in shown
    assert Suppression.objects.get().scope == Suppression.Scope.MARKETING
    client.post(path, {"choice": "<script>"})  # not a choice: nothing changes
    assert Suppression.objects.get().scope == Suppression.Scope.MARKETING
    client.post(path, {"choice": "none"})
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("consent", [False, True])
def test_marketing_goes_only_with_marketing_consent(
    published: QuestionnaireVersion, consent: bool
) -> None:
    news = Sequence.objects.create(
        name="News", trigger="submission_received", category=Category.MARKETING
    )
    Step.objects.create(sequence=news, template_key="acknowledgment")

    submit(published, consent_marketing=consent)
    _send_all()

    assert len(mail.outbox) == (2 if consent else 1)

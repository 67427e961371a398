"""The acknowledgment through the real parts: a submission through the API and one
through the form each reach the person within seconds, from a worker process, at a
real SMTP server, in their language, with both parts and one-click unsubscribe."""

import re
import time
from email.message import Message
from urllib.parse import urlsplit

import pytest
from django.test import Client
from rest_framework.test import APIClient

from clinics.models import Location
from core.models import DeliveryStatus
from followups.models import FollowUpMessage, Suppression
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.answers import complete_answers
from tests.support.booking import appointment_make, practitioner_make
from tests.support.form_steps import fill_all
from tests.support.smtp import SmtpServer, subject_of
from tests.support.waiting import wait_for_status
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECONDS = 10  # "before the person has put their phone down", with room for CI


def _parts(message: Message) -> dict[str, str]:
    parts = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode()
    return parts


def test_both_doors_acknowledge_within_seconds_in_the_persons_language(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    published: QuestionnaireVersion,
    location: Location,
    api_client: APIClient,
) -> None:
    # Given a clinic where mesotherapy can be booked on Mondays
    smtp_server.clear()
    appointment_make(practitioner_make(location, weekdays=tuple(range(7))))

    # When one person sends the questionnaire through the API, in English,
    started = time.monotonic()
    response = api_client.post(
        "/api/v1/submissions",
        {
            "answers": complete_answers(
                email="api.person@example.com",
                phone="0532 111 22 33",
                full_name="Api Person",
                preferred_language="en",
            )
        },
        format="json",
    )
    assert response.status_code == 201, response.json()

    # then the acknowledgment is at the SMTP server within seconds,
    english = smtp_server.wait_for(to="api.person@example.com", timeout=SECONDS)
    assert time.monotonic() - started < SECONDS
    assert subject_of(english) == "We have your questionnaire, Api"
    parts = _parts(english)
    assert set(parts) == {"text/plain", "text/html"}
    assert "you can choose a time now." in parts["text/plain"]
    # with the booking link, which opens the free times,
    link = re.search(r"https?://\S+/book/\S+/", parts["text/plain"])
    assert link is not None
    page = Client().get(urlsplit(link.group(0)).path)
    assert page.status_code == 200
    assert 'name="time"' in page.content.decode()
    # and a one-click unsubscribe that a mail app can use.
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # (a long header arrives folded over two lines)
    unsubscribe = "".join(str(english["List-Unsubscribe"]).split()).strip("<>")
    assert unsubscribe.startswith("http")

    # When another person sends it through the form, in Turkish,
    fill_all(
        Client(),
        complete_answers(
            email="form.kisi@example.com",
            phone="0532 444 55 66",
            full_name="Form Kişi",
            preferred_language="tr",
        ),
        language="tr",
    )

    # then theirs arrives too, in Turkish.
    turkish = smtp_server.wait_for(to="form.kisi@example.com", timeout=SECONDS)
    assert subject_of(turkish) == "Anketinizi aldık, Form"
    assert "Bundan sonra ne olacak:" in _parts(turkish)["text/plain"]
    for message in FollowUpMessage.objects.all():
        wait_for_status(message, DeliveryStatus.SENT)
    assert FollowUpMessage.objects.filter(attempts=1).count() == 2
    assert len(smtp_server.messages()) == 2  # once each

    # The mail app's one-click POST needs no login, cookie or token.
    clicked = Client(enforce_csrf_checks=True).post(
        urlsplit(unsubscribe).path, {"List-Unsubscribe": "One-Click"}
    )
    assert clicked.status_code == 200
    lead = Lead.objects.get(email="api.person@example.com")
    assert Suppression.objects.get().email_key == lead.email_key

"""Save and resume through the real thing: web -> Redis -> worker -> SMTP server."""

import re
from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from core.models import DeliveryStatus
from intake.models import ResumeEmail
from tests.support.factories import LocationFactory
from tests.support.form_steps import save_data
from tests.support.smtp import SmtpServer
from tests.support.waiting import wait_for_status
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_resume_link_is_emailed_by_the_worker_and_opens_the_draft_elsewhere(
    celery_worker: WorkerProcess, smtp_server: SmtpServer
) -> None:
    # Given a person who has started the questionnaire
    smtp_server.clear()
    cache.clear()
    LocationFactory.create(slug="nisantasi")
    call_command("load_intake_definitions", verbosity=0)
    client = Client()
    client.post("/en/consultation/", {"consent_health": "on"})

    # When they ask for a link to finish later
    client.post("/en/consultation/step/1/", save_data("ayse@example.com"))

    # Then the worker sends it through the SMTP server, with no answer in it
    message = smtp_server.wait_for()
    assert message["To"] == "ayse@example.com"
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    link = re.search(r"https?://\S+/resume/\S+/", body.decode())
    assert link is not None
    wait_for_status(ResumeEmail.objects.get(), DeliveryStatus.SENT)
    # and the link opens the draft on another device.
    response = Client().get(urlsplit(link.group(0)).path)
    assert response.status_code == 302
    assert response["Location"] == "/en/consultation/step/1/"

"""A questionnaire sent to the public API reaches the clinic through the real parts:
PostgreSQL, Redis, a worker process, an SMTP server and an integrator's HTTP server."""

import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clinics.models import Location
from core.models import DeliveryStatus
from intake.models import QuestionnaireVersion
from leads.models import AssignmentRule, Lead, WebhookDelivery, WebhookEndpoint
from tests.support.answers import complete_answers
from tests.support.factories import StaffMemberFactory
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.waiting import wait_for_status
from tests.support.webhook_receiver import running_webhook_receiver
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SECRET = "whsec-flow-0123456789abcdef"


def test_a_sent_questionnaire_emails_its_coordinator_and_tells_the_crm(
    celery_worker: WorkerProcess,
    smtp_server: SmtpServer,
    published: QuestionnaireVersion,
    location: Location,
    api_client: APIClient,
) -> None:
    # Given a coordinator on duty whom the clinic's rule gives new leads, and a CRM
    smtp_server.clear()
    StaffMemberFactory.create(
        locations=[location], user__username="deniz", user__email="deniz@clinic.example"
    )
    AssignmentRule.objects.create(name="Everyone here", location=location)
    with running_webhook_receiver(secret=SECRET) as crm:
        WebhookEndpoint.objects.create(
            name="CRM", url=crm.url, secret=SECRET, event_types=["lead.created"]
        )

        # When a person sends the questionnaire
        started = timezone.now()
        response = api_client.post(
            "/api/v1/submissions",
            {"answers": complete_answers(blood_thinners=["warfarin"])},
            format="json",
        )
        assert response.status_code == 201

        # Then the coordinator is emailed about the new lead
        message = smtp_server.wait_for(to="deniz@clinic.example")
        lead = Lead.objects.get()
        assert subject_of(message).startswith("A lead was assigned to you: ")
        assert lead.owner is not None
        assert lead.owner.username == "deniz"
        assert lead.first_contact_due_at > started
        # and the CRM hears of it once, signed, without health data.
        delivery = WebhookDelivery.objects.get()
        wait_for_status(delivery, DeliveryStatus.SENT)
        (request,) = crm.received()

    assert delivery.status == DeliveryStatus.SENT
    assert request.signature_valid
    body = json.loads(request.body)
    assert body["data"]["lead"]["code"] == str(lead.code)
    assert body["data"]["lead"]["owner"] == "deniz"
    assert "screening" not in body["data"]
    assert "arfarin" not in request.body.decode()
    assert "arfarin" not in body_of(message)

"""Each default follow-up email as a phone's mail app shows it, in Chromium: it
fits the screen, its link is a button, and a picture of it goes to docs/."""

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from booking.models import AppointmentType
from clinics.models import Location
from followups.defaults import KEYS
from followups.models import FollowUpMessage
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from tests.integration.browser_support import PHONE, fits_the_screen, shoot
from tests.support.booking import appointment_make, practitioner_make
from tests.support.submitting import submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

BUTTON = {"en": "Choose your time", "tr": "Randevu saatinizi seçin"}


@pytest.mark.parametrize("language", ["en", "tr"])
def test_each_default_email_reads_well_on_a_phone(
    page: Page, published: QuestionnaireVersion, location: Location, language: str
) -> None:
    session: AppointmentType = appointment_make(
        practitioner_make(location, weekdays=tuple(range(7)))
    )
    assert session.is_active
    submit(published, preferred_language=language)
    for message_id in FollowUpMessage.objects.values_list("pk", flat=True):
        followup_message_send(message_id=message_id)

    assert len(mail.outbox) == len(KEYS)
    for key, message in zip(KEYS, mail.outbox, strict=True):
        assert isinstance(message, mail.EmailMultiAlternatives)
        ((markup, _kind),) = message.alternatives
        page.set_viewport_size(PHONE)
        page.set_content(str(markup))
        if key == "acknowledgment":
            expect(page.get_by_role("link", name=BUTTON[language])).to_be_visible()
        assert fits_the_screen(page)
        shoot(page, f"email-{key}-{language}")

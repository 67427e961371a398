"""Each default follow-up email as a phone's mail app shows it, in Chromium: it
fits the screen, its link is a button, and a picture of it goes to docs/."""

import datetime as dt

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from clinics.models import Location
from followups.defaults import KEYS
from followups.models import FollowUpMessage
from followups.services import followup_message_send, followup_schedule_due
from intake.models import QuestionnaireVersion
from leads.models import LeadEvent
from tests.integration.browser_support import PHONE, fits_the_screen, shoot
from tests.support.booking import appointment_make, practitioner_make
from tests.support.submitting import submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

BUTTON = {"en": "Choose your time", "tr": "Randevu saatinizi seçin"}
STOP = {"en": "Stop these emails", "tr": "Bu e-postaları durdurun"}
MINUTE, HOUR, DAY = (
    dt.timedelta(minutes=1),
    dt.timedelta(hours=1),
    dt.timedelta(days=1),
)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_each_default_email_reads_well_on_a_phone(
    page: Page, published: QuestionnaireVersion, location: Location, language: str
) -> None:
    appointment_make(practitioner_make(location, weekdays=tuple(range(7))))
    submit(published, preferred_language=language, consent_marketing=True)
    submitted = LeadEvent.objects.get(kind=LeadEvent.Kind.SUBMITTED).created_at
    for later in (HOUR + MINUTE, DAY + MINUTE, 30 * DAY):  # nudge, reminder, news
        followup_schedule_due(now=submitted + later)
    for message_id in FollowUpMessage.objects.order_by("pk").values_list(
        "pk", flat=True
    ):
        followup_message_send(message_id=message_id)

    shown: dict[str, mail.EmailMessage] = {}
    for message in mail.outbox:
        row = FollowUpMessage.objects.get(
            message_id=message.extra_headers["Message-ID"]
        )
        shown.setdefault(row.step.template_key, message)
    assert set(shown) == set(KEYS)
    for key, message in shown.items():
        assert isinstance(message, mail.EmailMultiAlternatives)
        ((markup, _kind),) = message.alternatives
        page.set_viewport_size(PHONE)
        page.set_content(str(markup))
        if key != "reengagement":
            expect(page.get_by_role("link", name=BUTTON[language])).to_be_visible()
        expect(page.get_by_role("link", name=STOP[language])).to_be_visible()
        assert fits_the_screen(page)
        shoot(page, f"email-{key}-{language}")

"""Each default follow-up email as a phone's mail app shows it, in Chromium: it
fits the screen, its link is a button, and a picture of it goes to docs/."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.selectors import booking_option_list
from booking.services import booking_create
from clinics.models import Location, StaffMember
from followups.defaults import KEYS
from followups.models import FollowUpMessage
from followups.services import followup_message_send, followup_schedule_due
from intake.models import QuestionnaireVersion
from leads.models import LeadEvent
from leads.services.review import lead_review_decide
from tests.integration.browser_support import PHONE, fits_the_screen, shoot
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import StaffMemberFactory
from tests.support.submitting import lead_of, submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CHOOSE = {"en": "Choose your time", "tr": "Randevu saatinizi seçin"}
MOVE = {"en": "Move or cancel", "tr": "Taşı veya iptal et"}
BUTTON = {
    "cleared": CHOOSE,
    "nudge": CHOOSE,
    "reminder_unbooked": CHOOSE,
    "visit_preparation": MOVE,
    "visit_reminder": MOVE,
}
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
    session = appointment_make(practitioner_make(location, weekdays=tuple(range(7))))
    # Mesotherapy waits for a physician (aspirin), who clears it.
    lead = lead_of(
        submit(
            published,
            preferred_language=language,
            consent_marketing=True,
            blood_thinners=["aspirin"],
        )
    )
    lead_review_decide(
        lead=lead,
        treatment="mesotherapy",
        decision="cleared",
        note="Aspirin only.",
        physician=StaffMemberFactory.create(
            role=StaffMember.Role.PHYSICIAN, locations=[location]
        ).user,
    )
    submitted = LeadEvent.objects.get(kind=LeadEvent.Kind.SUBMITTED).created_at
    for later in (HOUR + MINUTE, DAY + MINUTE, 30 * DAY):  # nudge, reminder, news
        followup_schedule_due(now=submitted + later)
    since = timezone.now() + 5 * DAY
    (option,) = booking_option_list(lead=lead, now=timezone.now(), since=since)
    visit = booking_create(
        lead=lead,
        appointment_type=session,
        practitioner=option.practitioner,
        location=option.location,
        starts_at=option.slots[0].start,
    )
    for moment in (-2 * DAY, -DAY, DAY):  # preparation, reminder, aftercare
        followup_schedule_due(now=visit.starts_at + moment + MINUTE)
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
        if key in BUTTON:
            expect(page.get_by_role("link", name=BUTTON[key][language])).to_be_visible()
        expect(page.get_by_role("link", name=STOP[language])).to_be_visible()
        assert fits_the_screen(page)
        shoot(page, f"email-{key}-{language}")

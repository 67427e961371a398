"""Each default follow-up email as a phone's mail app shows it, in Chromium: it
fits the screen, its link is a button, and a picture of it goes to docs/."""

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from booking.selectors import booking_option_list
from booking.services import booking_create
from clinics.models import Location
from followups.defaults import KEYS
from followups.models import FollowUpMessage, Sequence, Step
from followups.services import followup_message_send
from intake.models import QuestionnaireVersion
from leads.models import LeadEvent
from tests.integration.browser_support import PHONE, fits_the_screen, shoot
from tests.support.booking import appointment_make, practitioner_make
from tests.support.submitting import lead_of, submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CHOOSE = {"en": "Choose your time", "tr": "Randevu saatinizi seçin"}
MOVE = {"en": "Move or cancel", "tr": "Taşı veya iptal et"}
BUTTON = {
    "cleared": CHOOSE,
    "nudge": CHOOSE,
    "maintenance": CHOOSE,
    "reminder_unbooked": CHOOSE,
    "visit_preparation": MOVE,
    "visit_reminder": MOVE,
    "booking_link": CHOOSE,
    "booking_made": MOVE,
    "booking_rescheduled": MOVE,
    "booking_cancelled": {"en": "Choose a new time", "tr": "Yeni bir saat seçin"},
    "next_session": {
        "en": "Choose your next session",
        "tr": "Bir sonraki seansınızı seçin",
    },
}
STOP = {"en": "Stop these emails", "tr": "Bu e-postaları durdurun"}
DAY = dt.timedelta(days=1)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_each_default_email_reads_well_on_a_phone(
    page: Page, published: QuestionnaireVersion, location: Location, language: str
) -> None:
    # A person who may book mesotherapy, with a visit in five days: every template
    # has what it shows. (When each goes is tests/followups' business.)
    session = appointment_make(practitioner_make(location, weekdays=tuple(range(7))))
    lead = lead_of(submit(published, preferred_language=language))
    submitted = LeadEvent.objects.get(kind=LeadEvent.Kind.SUBMITTED)
    since = timezone.now() + 5 * DAY
    (option,) = booking_option_list(lead=lead, now=timezone.now(), since=since)
    visit = booking_create(
        lead=lead,
        appointment_type=session,
        practitioner=option.practitioner,
        location=option.location,
        starts_at=option.slots[0].start,
    )
    FollowUpMessage.objects.all().delete()
    pictures = Sequence.objects.create(name="Pictures", trigger="submission_received")
    declined = LeadEvent.objects.create(
        lead=lead,
        kind=LeadEvent.Kind.PHYSICIAN_DECISION,
        submission=submitted.submission,
        data={"treatment": "mesotherapy", "decision": "declined"},
    )
    for key in KEYS:
        FollowUpMessage.objects.create(
            lead=lead,
            step=Step.objects.create(sequence=pictures, template_key=key),
            event=declined if key == "declined" else submitted,
            booking=visit,
            occurrence=f"picture:{key}",
            category="transactional",
        )
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

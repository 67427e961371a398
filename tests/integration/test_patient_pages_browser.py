"""Every patient page besides the questionnaire's steps, on a phone, in English and
Turkish: each in its language, nothing sideways, nothing from elsewhere, and a
screenshot in docs/screenshots/patient-<language>-<page>.png.

The steps, the guardian page and what happens next are shot by
test_intake_browser.py, the booking flow by test_booking_browser.py.
"""

from urllib.parse import urlsplit

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from booking.links import booking_link_make
from clinics.models import ClinicBranding
from followups.unsubscribe import unsubscribe_url
from intake.models import QuestionnaireVersion
from tests.integration.browser_support import fits_the_screen, shoot, watch_on_a_phone
from tests.support.booking import appointment_make, practitioner_make
from tests.support.factories import LocationFactory
from tests.support.submitting import lead_of, submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clinic(transactional_db: None, settings: Settings, live_server: LiveServer) -> str:
    settings.SITE_URL = live_server.url
    cache.clear()
    location = LocationFactory.create(
        slug="nisantasi",
        name="Nişantaşı Clinic",
        name_tr="Nişantaşı Kliniği",
        address="Abdi İpekçi Caddesi 1, İstanbul",
        phone="+902120000000",
    )
    ClinicBranding.objects.create(
        name="Demo Aesthetic Clinic",
        phone="+90 212 000 00 00",
        address="Abdi İpekçi Caddesi 1, 34367 Şişli/İstanbul",
        email="hello@clinic.example",
    )
    call_command("load_intake_definitions", verbosity=0)
    appointment_make(practitioner_make(location, name="Dr. Demir"))
    return str(live_server.url)


def _message(language: str, english: str) -> str:
    with translation.override(language):
        return translation.gettext(english)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_every_other_patient_page_reads_well_on_a_phone(
    page: Page, clinic: str, language: str
) -> None:
    base = clinic
    watch = watch_on_a_phone(page, base)
    lead = lead_of(submit(QuestionnaireVersion.objects.get(status="published")))
    token = booking_link_make(lead=lead, now=timezone.now()).token
    with translation.override(language):
        booking = reverse("booking:page", kwargs={"token": token})
    unsubscribe = urlsplit(unsubscribe_url(lead_code=lead.code, language=language))
    pages = {
        "home": (f"/{language}/", 200),
        "booking": (booking, 200),
        "email-preferences": (unsubscribe.path, 200),
        "resume-expired": (f"/{language}/consultation/resume/not-a-link/", 410),
        "not-found": (f"/{language}/no-such-page/", 404),
    }

    for name, (path, status) in pages.items():
        response = page.goto(base + path)
        assert response is not None
        assert response.status == status, name
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert fits_the_screen(page), name
        # The clinic's own footer: its phone a tap away, no staff door.
        expect(page.locator(".site-footer a[href^='tel:']")).to_have_count(1)
        expect(page.locator("a[href^='/admin'], a[href^='/staff']")).to_have_count(0)
        shoot(page, f"patient-{language}-{name}")

    # A browser that keeps no cookies: the form cannot be sent, and the page says why.
    page.goto(f"{base}/{language}/consultation/")
    page.context.clear_cookies()
    page.locator("#id_consent_health").check()
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("form.step-form button[type=submit]").click()
    assert posted.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text(
        _message(language, "This page could not be sent")
    )
    assert fits_the_screen(page)
    shoot(page, f"patient-{language}-cookies-refused")

    watch.assert_clean(
        expected_failures=[
            f"410 GET /{language}/consultation/resume/not-a-link/",
            f"404 GET /{language}/no-such-page/",
            f"403 POST /{language}/consultation/",
        ]
    )

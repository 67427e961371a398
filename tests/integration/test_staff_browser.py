"""The staff workspace in headless Chromium, on a laptop, end to end.

A coordinator signs in through the sign-in form, filters the queue, opens a lead
and logs a call, moves it and takes it, each change showing on the timeline with
no reload of the page (htmx). A physician clears a treatment waiting for review
and it leaves their queue. A clinic admin sets up an authenticator app at their
first sign-in and gives its code the next time. The queue, the lead page and the
physician queue are shot in English and in Turkish for the docs.
"""

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, ViewportSize, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from clinics.models import Location, StaffMember
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.integration.browser_support import PageWatch, shoot, watch_on_a_phone
from tests.support.staff_api import staff
from tests.support.submitting import lead_of, submit

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LAPTOP: ViewportSize = {"width": 1280, "height": 900}
PASSWORD = "a-long-staff-password"
CALL_NOTE = "Wants a Monday morning; asked about the price of three sessions."
REVIEW_NOTE = "Aspirin 100 mg only, no bleeding history: fine for mesotherapy."


def watch_on_a_laptop(page: Page, own_url: str) -> PageWatch:
    """`watch_on_a_phone`'s watch, on a laptop's screen: the staff pages' size."""
    watch = watch_on_a_phone(page, own_url)
    page.set_viewport_size(LAPTOP)
    return watch


def with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def working_day(published: QuestionnaireVersion) -> dict[str, Lead]:
    """A few people who sent the questionnaire today: one a minor, one whose first
    call is late, one whose answers wait for a physician; by first name (as in
    their email address)."""
    people: dict[str, dict[str, Any]] = {
        "Zeynep": {"full_name": "Zeynep Demir", "phone": "0532 111 11 11"},
        "Ayse": {"full_name": "Ayşe Yılmaz", "phone": "0532 123 45 67"},
        "Deniz": {
            "full_name": "Deniz Ak",
            "phone": "0532 222 22 22",
            "birth_date": "2010-03-01",
        },
        "Mehmet": {
            "full_name": "Mehmet Öztürk",
            "phone": "0533 333 33 33",
            "treatments_wanted": ["laser_ipl"],
            "preferred_language": "en",
        },
        "Ece": {
            "full_name": "Ece Su",
            "phone": "0534 444 44 44",
            "blood_thinners": ["aspirin"],
            "treatments_wanted": ["mesotherapy"],
        },
    }
    leads = {
        first: lead_of(
            submit(published, email=f"{first.lower()}@example.com", **answers)
        )
        for first, answers in people.items()
    }
    late = timezone.now() - dt.timedelta(hours=2, minutes=10)
    Lead.objects.filter(pk=leads["Mehmet"].pk).update(first_contact_due_at=late)
    return leads


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/staff/sign-in/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Staff sign-in")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/staff/sign-in/$"))


def switch_language(page: Page, code: str) -> None:
    """Choose the language in the header's menu: it posts to /i18n/setlang/ and
    comes back to the same page."""
    path = page.evaluate("location.pathname")
    page.locator("#staff-language").select_option(code)
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page).to_have_url(re.compile(re.escape(path)))


def mark_the_page(page: Page) -> None:
    """A mark that lives as long as this document: a full reload would wipe it."""
    page.evaluate("window.__marker = 1")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__marker") == 1, "the page was loaded again"


def test_a_coordinator_works_a_lead_from_the_queue_without_a_reload(
    page: Page,
    live_server: LiveServer,
    location: Location,
    working_day: dict[str, Lead],
) -> None:
    base = live_server.url
    watch = watch_on_a_laptop(page, base)
    elif_kaya = with_password(
        staff(
            locations=[location], username="elif", first_name="Elif", last_name="Kaya"
        )
    )

    # Signing in lands on the queue: the late lead first, the others after it.
    sign_in(page, base, "elif")
    expect(page).to_have_url(f"{base}/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    rows = page.locator("#queue-rows tr.queue-row")
    expect(rows).to_have_count(len(working_day))
    expect(rows.first).to_contain_text("Mehmet Öztürk")
    expect(rows.first).to_have_class(re.compile(r"\boverdue\b"))
    expect(rows.first).to_contain_text("late")
    deniz = rows.filter(has_text="Deniz Ak")
    expect(deniz).to_contain_text("Minor (16)")
    expect(deniz).to_contain_text("Waiting for review")
    expect(page.locator(".bulk-bar")).to_contain_text("5 leads")

    # The filters change the rows in place.
    mark_the_page(page)
    filters = page.locator("#queue-filters")
    filters.get_by_label("Overdue only").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Mehmet Öztürk")
    filters.get_by_label("Overdue only").uncheck()
    expect(rows).to_have_count(len(working_day))
    search = filters.get_by_label("Search")
    search.fill("Zeyn")
    search.press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Zeynep Demir")
    expect(page).to_have_url(re.compile(r"[?&]q=Zeyn(&|$)"))  # pushed, not loaded
    assert_not_reloaded(page)

    # The lead's page: who they are and what they asked about.
    rows.first.get_by_role("link", name="Zeynep Demir").click()
    zeynep = working_day["Zeynep"]
    expect(page).to_have_url(f"{base}/staff/leads/{zeynep.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zeynep Demir")
    lead = page.locator("#lead")
    expect(lead.locator(".badge-status")).to_have_text("New")
    expect(lead.locator(".lead-due")).to_contain_text("Unassigned")
    timeline = lead.locator("ol.timeline")
    expect(timeline).to_contain_text("Lead created")
    mark_the_page(page)

    # A call that reached them: on the timeline at once, and the lead is contacted.
    call = page.locator("#call-action form")
    call.get_by_label("Reached").check()
    call.get_by_label("Note").fill(CALL_NOTE)
    call.get_by_role("button", name="Save the call").click()
    expect(lead.locator("ul.messages")).to_have_text("Call logged.")
    expect(timeline.locator("li").filter(has_text="Call: Reached")).to_contain_text(
        CALL_NOTE
    )
    expect(timeline).to_contain_text("Status: New → Contacted")
    expect(lead.locator(".badge-status")).to_have_text("Contacted")
    expect(lead.locator(".lead-due")).to_contain_text("contacted")
    assert_not_reloaded(page)

    # Moved on to qualified: only the moves the pipeline allows are offered.
    lead.locator("summary", has_text="Change the status").click()
    status = lead.locator("form[action$='/status']")
    offered = status.get_by_label("Move to").locator("option").all_inner_texts()
    assert offered == [
        "Qualified",
        "Awaiting physician review",
        "Lost",
        "Disqualified",
    ]
    status.get_by_label("Move to").select_option(label="Qualified")
    status.get_by_role("button", name="Move").click()
    expect(lead.locator("ul.messages")).to_have_text("Status changed.")
    expect(timeline).to_contain_text("Status: Contacted → Qualified")
    expect(lead.locator(".badge-status")).to_have_text("Qualified")
    assert_not_reloaded(page)

    # Taken by the coordinator herself.
    lead.locator("summary", has_text="Assign").click()
    assign = lead.locator("form[action$='/assign']")
    assign.get_by_label("Owner").select_option(label="Elif Kaya")
    assign.get_by_role("button", name="Assign").click()
    expect(lead.locator("ul.messages")).to_have_text("Owner changed.")
    expect(timeline).to_contain_text("Assigned to elif")
    expect(lead.locator(".lead-due")).to_contain_text("Owner: Elif Kaya")
    assert_not_reloaded(page)

    zeynep.refresh_from_db()
    assert zeynep.status == Lead.Status.QUALIFIED
    assert zeynep.owner_id == elif_kaya.pk
    assert zeynep.first_contacted_at is not None
    shoot(page, "staff-lead-en")

    # Back on the queue, the lead shows what was done; then the same in Turkish.
    page.get_by_role("link", name="← Queue").click()
    expect(page).to_have_url(f"{base}/staff/")
    expect(rows).to_have_count(len(working_day))
    expect(rows.filter(has_text="Zeynep Demir")).to_contain_text("Elif Kaya")
    shoot(page, "staff-queue-en")
    switch_language(page, "tr")
    expect(rows).to_have_count(len(working_day))
    shoot(page, "staff-queue-tr")
    rows.filter(has_text="Zeynep Demir").get_by_role("link").first.click()
    expect(page).to_have_url(f"{base}/staff/leads/{zeynep.code}/")
    expect(page.locator("html")).to_have_attribute("lang", "tr")
    expect(page.locator("ol.timeline li")).to_have_count(zeynep.events.count())
    shoot(page, "staff-lead-tr")
    watch.assert_clean()


def test_a_physician_clears_a_treatment_and_the_lead_leaves_their_queue(
    page: Page,
    live_server: LiveServer,
    location: Location,
    working_day: dict[str, Lead],
) -> None:
    base = live_server.url
    watch = watch_on_a_laptop(page, base)
    with_password(
        staff(
            StaffMember.Role.PHYSICIAN,
            locations=[location],
            username="dr.demir",
            first_name="Aylin",
            last_name="Demir",
        )
    )
    sign_in(page, base, "dr.demir")

    # A physician lands on their queue: the people whose answers wait for a
    # physician, and only them.
    expect(page).to_have_url(f"{base}/staff/review/")
    nav = page.get_by_role("navigation", name="Staff pages")
    expect(nav.get_by_role("link", name="Physician queue")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Waiting for a physician")
    rows = page.locator("tr.queue-row")
    expect(rows.filter(has_text="Ece Su")).to_have_count(1)
    expect(rows.filter(has_text="Deniz Ak")).to_contain_text("Minor (16)")
    expect(rows.filter(has_text="Zeynep Demir")).to_have_count(0)
    waiting = rows.count()
    shoot(page, "staff-review-en")
    switch_language(page, "tr")
    expect(rows).to_have_count(waiting)
    shoot(page, "staff-review-tr")
    switch_language(page, "en")

    # Her answers, the ones that caused the review marked.
    rows.filter(has_text="Ece Su").get_by_role("link", name="Ece Su").click()
    ece = working_day["Ece"]
    expect(page).to_have_url(f"{base}/staff/review/{ece.code}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ece Su")
    card = page.locator("section.review-card").filter(
        has=page.get_by_role("heading", name="Mesotherapy")
    )
    marked = card.locator("mark")
    expect(marked.first).to_be_visible()
    assert any("spirin" in text for text in marked.all_inner_texts())
    expect(card).to_contain_text("Source")

    card.get_by_label("Note for the record").fill(REVIEW_NOTE)
    clear = card.get_by_role("button", name=re.compile(r"^Clear .*mesotherapy"))
    expect(clear).to_have_count(1)
    clear.click()

    # Decided: back on the queue, without her.
    expect(page).to_have_url(f"{base}/staff/review/")
    expect(page.locator("#messages")).to_contain_text(
        re.compile(r"mesotherapy .*: decision recorded\.")
    )
    expect(rows.filter(has_text="Deniz Ak")).to_have_count(1)
    expect(rows.filter(has_text="Ece Su")).to_have_count(0)
    ece.refresh_from_db()
    assert not ece.treatments.filter(outcome="review").exists()
    watch.assert_clean()


def code_of(device: TOTPDevice) -> str:
    """What the person's authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_a_clinic_admin_signs_in_with_a_password_then_an_authenticator_code(
    page: Page,
    live_server: LiveServer,
    location: Location,
    settings: Settings,
    working_day: dict[str, Lead],
) -> None:
    # The live server's thread reads these very settings.
    settings.STAFF_SECOND_FACTOR = True
    base = live_server.url
    watch = watch_on_a_laptop(page, base)
    admin = with_password(
        staff(
            StaffMember.Role.CLINIC_ADMIN,
            locations=[location],
            username="selin",
            first_name="Selin",
            last_name="Aydın",
        )
    )

    # The first time: the password, then setting up the app.
    sign_in(page, base, "selin")
    expect(page).to_have_url(f"{base}/staff/sign-in/authenticator/?next=/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Set up your authenticator app"
    )
    expect(page.locator(".qr svg")).to_be_visible()
    device = TOTPDevice.objects.get(user=admin, confirmed=False)
    expect(page.locator(".otp-key")).not_to_be_empty()
    page.get_by_label("Code from your authenticator app").fill(code_of(device))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{base}/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")
    expect(page.locator("#queue-rows tr.queue-row")).to_have_count(len(working_day))
    device.refresh_from_db()
    assert device.confirmed

    # The next time: the password, then the code the app shows.
    sign_out(page)
    sign_in(page, base, "selin")
    expect(page).to_have_url(f"{base}/staff/sign-in/code/?next=/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "The code from your authenticator app"
    )
    # A code is good once: instead of waiting up to 30 s for the app's next one.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    page.get_by_label("Code from your authenticator app").fill(code_of(device))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/staff/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Leads")

    # The funnel of the day's questionnaires, in both languages.
    page.goto(f"{base}/staff/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Funnel")
    funnel = page.get_by_role("img", name="From questionnaire to treatment")
    expect(funnel).to_contain_text("Received")
    expect(
        page.get_by_role("heading", name="Questionnaires by trigger")
    ).to_be_visible()
    shoot(page, "staff-dashboard-en")
    switch_language(page, "tr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Huni")
    shoot(page, "staff-dashboard-tr")
    watch.assert_clean()

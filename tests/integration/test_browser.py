"""The pages in real headless Chromium, on a phone-sized screen."""

import pytest
from playwright.sync_api import Page, expect

from tests.integration.browser_support import (
    PageWatch,
    fits_the_screen,
    screenshot,
    watch_on_a_phone,
)
from tests.support.factories import StaffUserFactory
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched(page: Page, live_server) -> tuple[Page, PageWatch, str]:
    return page, watch_on_a_phone(page, live_server.url), live_server.url


def _sign_in_with_the_keyboard(page: Page, url: str) -> None:
    """Open a staff page, meet the staff sign-in form (the admin's too), and submit
    it with Enter."""
    user = StaffUserFactory.create()
    page.goto(url)
    page.get_by_label("User name").fill(user.username)
    page.get_by_label("Password").fill("correct horse battery staple")
    page.keyboard.press("Enter")


def test_start_page_fits_a_phone_loads_nothing_from_elsewhere_and_switches_to_turkish(
    watched: tuple[Page, PageWatch, str],
) -> None:
    page, watch, base = watched

    page.goto(f"{base}/en/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("spider veins")
    assert fits_the_screen(page)
    screenshot(page, "start-page-phone")

    page.get_by_role("link", name="Türkçe").click()

    expect(page).to_have_url(f"{base}/tr/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kızarıklık")
    watch.assert_clean()


def test_staff_member_signs_in_with_the_keyboard_and_sends_a_task_through_the_worker(
    watched: tuple[Page, PageWatch, str], celery_worker: WorkerProcess
) -> None:
    page, watch, base = watched

    _sign_in_with_the_keyboard(page, f"{base}/staff/status/")
    expect(page.get_by_role("heading", name="System status")).to_be_visible()

    page.get_by_role("button", name="Send a test task").click()

    # The page refreshes itself until the separate worker process has answered.
    expect(page.get_by_text("Done").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"by {celery_worker.node_name}")).to_be_visible()
    screenshot(page, "status-page-phone")
    watch.assert_clean()


def test_api_docs_render_from_local_assets_under_the_content_security_policy(
    watched: tuple[Page, PageWatch, str],
) -> None:
    page, watch, base = watched

    _sign_in_with_the_keyboard(page, f"{base}/admin/login/?next=/api/docs/")

    expect(page.locator(".swagger-ui .title")).to_contain_text(
        "Clinic intake and leads API"
    )
    expect(page.get_by_text("/api/v1/ops/worker-checks").first).to_be_visible()
    watch.assert_clean()

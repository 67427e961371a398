"""The questionnaire in a frame on the clinic's own website, in headless Chromium.

The clinic's page is served from another port (another origin) with the snippet the
README gives. On a page of a listed site the patient gives consent, answers the five
steps inside the frame and reaches what happens next, while the frame keeps the height
of its content; on the page of a site not listed the browser refuses to show it.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast

import pytest
from django.core.cache import cache
from playwright.sync_api import ElementHandle, Frame, Page, ViewportSize, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from tests.integration.browser_support import STATUS_LOGGED, screenshot, shoot
from tests.integration.test_intake_browser import (
    NEXT,
    NEXT_STEPS,
    STEP_FORM,
    answer_step,
    person_answers,
)
from tests.support.form_steps import STEPS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DESKTOP: ViewportSize = {"width": 1200, "height": 800}
FRAME = "iframe[data-clinic-intake]"
HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Demo Aesthetic Clinic: book a consultation</title>
  <style>
    body {{ margin: 0; font-family: Georgia, serif; background: #f3efe9; }}
    header {{ background: #2d4a45; color: #fff; padding: 1.25rem 2rem; }}
    header strong {{ font-size: 1.4rem; letter-spacing: .02em; }}
    header nav {{ float: right; font-family: sans-serif; }}
    header nav span {{ margin-left: 1.5rem; }}
    main {{ max-width: 1000px; margin: 0 auto; padding: 2rem 1rem 4rem; }}
    iframe {{ width: 100%; border: 0; border-radius: 12px;
             box-shadow: 0 2px 12px rgba(0, 0, 0, .12); background: #fff; }}
    footer {{ text-align: center; padding: 2rem; font-family: sans-serif; }}
  </style>
</head>
<body>
  <header><strong>Demo Aesthetic Clinic</strong>
    <nav><span>Treatments</span><span>Our doctors</span><span>Contact</span></nav>
  </header>
  <main>
    <h1>Start your consultation online</h1>
    <p>Tell us about your skin in ten minutes; we answer the same day.</p>
    <iframe src="{intake}/en/consultation/" data-clinic-intake
            title="Consultation questionnaire"></iframe>
  </main>
  <footer>Demo Aesthetic Clinic · Nişantaşı, Istanbul</footer>
  <script src="{intake}/static/js/embed.js" defer></script>
</body>
</html>
"""


@dataclass
class ClinicSite:
    """The clinic's web page, served by a server of its own on another port."""

    url: str

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


def _serving(html: str) -> tuple[ThreadingHTTPServer, ClinicSite]:
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # localhost, as the live server: another port of one site (README, cookies).
    return server, ClinicSite(url=f"http://localhost:{server.server_address[1]}/")


@pytest.fixture
def clinic_sites(live_server: LiveServer) -> Iterator[tuple[ClinicSite, ClinicSite]]:
    """Two clinic pages with the same snippet: one site listed, one not."""
    html = HOST_PAGE.format(intake=live_server.url)
    listed_server, listed = _serving(html)
    unlisted_server, unlisted = _serving(html)
    yield listed, unlisted
    for server in (listed_server, unlisted_server):
        server.shutdown()
        server.server_close()


@pytest.fixture
def listed_site(
    settings: Settings,
    clinic_sites: tuple[ClinicSite, ClinicSite],
    published: None,
) -> Iterator[tuple[ClinicSite, ClinicSite]]:
    # The live server runs in this process: it reads these settings per request.
    settings.INTAKE_EMBED_ORIGINS = [clinic_sites[0].origin]
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield clinic_sites
    cache.clear()


def _frame(page: Page) -> tuple[ElementHandle, Frame]:
    element = page.locator(FRAME).element_handle()
    frame = element.content_frame()
    assert frame is not None
    return element, frame


def _content_height(frame: Frame) -> int:
    return int(
        frame.evaluate(
            "Math.ceil(document.documentElement.getBoundingClientRect().height)"
        )
    )


def _expect_frame_fits(page: Page, element: ElementHandle, frame: Frame) -> int:
    """The frame takes its content's height (embed.js, told by framed.js)."""
    height = 0.0
    for _ in range(50):
        box = element.bounding_box()
        assert box is not None
        height = box["height"]
        if abs(height - _content_height(frame)) <= 1:
            return round(height)
        page.wait_for_timeout(100)
    pytest.fail(f"frame {height}px high, content {_content_height(frame)}px")


def _frame_top(page: Page) -> float:
    return float(
        page.evaluate(f"document.querySelector('{FRAME}').getBoundingClientRect().top")
    )


def _press_next(page: Page, frame: Frame) -> int:
    with page.expect_response(
        lambda response: response.request.method == "POST"
    ) as posted:
        frame.locator(STEP_FORM).locator(NEXT).click()
    return posted.value.status


def test_a_patient_fills_the_questionnaire_in_a_frame_on_the_clinics_site(
    page: Page, live_server: LiveServer, listed_site: tuple[ClinicSite, ClinicSite]
) -> None:
    listed, _ = listed_site
    base = live_server.url
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: (
            console_errors.append(message.text)
            if message.type == "error" and not message.text.startswith(STATUS_LOGGED)
            else None
        ),
    )
    page.set_viewport_size(DESKTOP)
    answers = person_answers()
    answered: set[str] = set()

    # The clinic's page, with the start of the questionnaire inside it.
    page.goto(listed.url)
    element, frame = _frame(page)
    expect(frame.locator("#id_consent_health")).to_be_visible()
    assert frame.url == f"{base}/en/consultation/"
    # Left alone, an iframe is 150px high: the start page is far taller.
    assert _expect_frame_fits(page, element, frame) > 600
    new_tab = frame.locator(".new-tab a")
    expect(new_tab).to_have_attribute("target", "_blank")
    expect(new_tab).to_have_attribute("href", frame.url)
    frame.locator("#id_consent_health").check()
    frame.locator("form.step-form button[type=submit]").click()

    # Every step, each in the frame, the frame following each one's height.
    heights = set()
    for number in range(1, len(STEPS) + 1):
        frame.wait_for_url(f"{base}/en/consultation/step/{number}/")
        expect(frame.locator(STEP_FORM)).to_be_visible()
        heights.add(_expect_frame_fits(page, element, frame))
        if number == 1:
            shoot(page, "embed-listed")
        # Each new step starts at its top, not where "Next" was pressed.
        assert abs(_frame_top(page)) <= 1 or number == 1
        answered |= answer_step(cast(Page, frame), answers)  # it needs locator() only
        assert _frame_top(page) < 0, "the step should reach below the fold"
        assert _press_next(page, frame) == 302

    # What happens next: the session kept every step's answers inside the frame.
    frame.wait_for_url(
        re.compile(rf"^{re.escape(base)}/en/consultation/done/[0-9a-f-]{{36}}/$")
    )
    expect(frame.locator(NEXT_STEPS).first).to_be_visible()
    heights.add(_expect_frame_fits(page, element, frame))
    screenshot(page, "embed-listed-done")
    assert answered == set(answers), "some answers were never asked for"
    assert len(heights) > 1, "the frame kept one height for pages of all sizes"
    assert console_errors == []


def test_a_site_not_listed_gets_a_blocked_frame(
    page: Page, live_server: LiveServer, listed_site: tuple[ClinicSite, ClinicSite]
) -> None:
    _, unlisted = listed_site
    refusals: list[str] = []
    page.on(
        "console",
        lambda message: (
            refusals.append(message.text) if "frame-ancestors" in message.text else None
        ),
    )
    page.set_viewport_size(DESKTOP)

    with page.expect_response(f"{live_server.url}/en/consultation/") as framed:
        page.goto(unlisted.url)
    page.wait_for_load_state("load")
    _, frame = _frame(page)

    # The server answered; Chromium refused to show the answer in this page.
    assert framed.value.status == 200
    assert framed.value.headers["content-security-policy"].endswith(
        f"frame-ancestors 'self' {listed_site[0].origin}"
    )
    assert frame.url == "chrome-error://chromewebdata/"
    assert frame.locator("form").count() == 0
    # Chromium says why: "Framing '<live server>' violates ... frame-ancestors ...".
    assert any("blocked" in text for text in refusals), refusals
    screenshot(page, "embed-unlisted")

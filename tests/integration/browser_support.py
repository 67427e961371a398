"""What the browser tests share: a phone-sized page that is watched while it runs."""

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, ViewportSize

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}


# Chromium also logs an error status as a console error; `failed_responses` has it.
STATUS_LOGGED = "Failed to load resource: the server responded with a status of"


@dataclass
class PageWatch:
    """What a page did that a patient should never see or suffer."""

    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)  # "400 POST /en/..."

    def assert_clean(self, *, expected_failures: Sequence[str] = ()) -> None:
        """No console error, nothing from elsewhere, and no error status but these.

        A form the server sends back with its errors answers 400 on purpose: a test
        that provokes one lists it in `expected_failures`, as "400 POST /path/".
        """
        assert self.console_errors == []
        assert self.foreign_requests == []
        assert self.failed_responses == list(expected_failures)


def watch_on_a_phone(page: Page, own_url: str) -> PageWatch:
    """Give the page a phone's screen and record what `PageWatch` looks for.

    A request counts as foreign when it goes to any host other than `own_url`'s.
    """
    watch = PageWatch()
    own_host = urlsplit(own_url).netloc
    page.set_viewport_size(PHONE)
    page.on(
        "console",
        lambda message: (
            watch.console_errors.append(message.text)
            if message.type == "error" and not message.text.startswith(STATUS_LOGGED)
            else None
        ),
    )
    page.on(
        "request",
        lambda request: (
            watch.foreign_requests.append(request.url)
            if urlsplit(request.url).netloc not in {own_host, ""}
            and not request.url.startswith("data:")
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            watch.failed_responses.append(
                f"{response.status} {response.request.method} "
                f"{urlsplit(response.url).path}"
            )
            if response.status >= 400
            else None
        ),
    )
    return watch


def screenshot(page: Page, name: str) -> Path:
    """The whole page as test-results/<name>.png, for a reviewer to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def shoot(page: Page, name: str) -> Path:
    """test-results/<name>.png, and a copy in docs/screenshots/ for the docs."""
    path = screenshot(page, name)
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(path, DOCS_SCREENSHOTS / path.name))


def fits_the_screen(page: Page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    return bool(
        page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    )


def page_height(page: Page) -> int:
    """How tall the whole page is, in CSS pixels."""
    return int(page.evaluate("document.documentElement.scrollHeight"))

"""What the browser tests share: a phone-sized page that is watched while it runs."""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, ViewportSize

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"
PHONE: ViewportSize = {"width": 390, "height": 844}


@dataclass
class PageWatch:
    """What a page did that a patient should never see or suffer."""

    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.foreign_requests == []


def watch_on_a_phone(page: Page, own_url: str) -> PageWatch:
    """Give the page a phone's screen and record console errors and foreign requests.

    A request counts as foreign when it goes to any host other than `own_url`'s.
    """
    watch = PageWatch()
    own_host = urlsplit(own_url).netloc
    page.set_viewport_size(PHONE)
    page.on(
        "console",
        lambda message: (
            watch.console_errors.append(message.text)
            if message.type == "error"
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
    return watch


def screenshot(page: Page, name: str) -> Path:
    """The whole page as test-results/<name>.png, for a reviewer to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def fits_the_screen(page: Page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the phone."""
    return bool(
        page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    )

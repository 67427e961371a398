"""The consultation questionnaire in headless Chromium, on a phone, in two languages.

A person gives consent, answers the five steps with taps and typing, opens a follow-up
question by answering "yes", meets the server's error messages and fixes them, sends
the answers and lands on the page that tells them what happens next.
"""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Browser, Locator, Page, Response, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from intake.models import ResumeEmail
from intake.services.resume import resume_token
from tests.integration.browser_support import (
    PHONE,
    PageWatch,
    fits_the_screen,
    page_height,
    screenshot,
    shoot,
    watch_on_a_phone,
)
from tests.support.answers import complete_answers
from tests.support.factories import LocationFactory
from tests.support.form_steps import STEPS

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NEXT = '.actions button[name="action"][value="next"]'
# The step's own form: the page also has a "save and finish later" form with an email.
STEP_FORM = "form[data-intake-form]"
NEXT_STEPS = ", ".join(
    f"section.next-{kind}" for kind in ("book", "review", "deferred", "not_offered")
)


@pytest.fixture
def published(transactional_db: None) -> None:
    """The shipped questionnaire and rules, published as `make run` does."""
    LocationFactory.create(slug="nisantasi", name="Nişantaşı Clinic")
    call_command("load_intake_definitions", verbosity=0)


@pytest.fixture(autouse=True)
def _no_minimum_time_and_fresh_rate_limits(
    settings: Settings,
) -> Iterator[None]:
    # The live server runs in this process, so it sees these settings and this cache.
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def patient(
    page: Page, live_server: LiveServer, published: None
) -> tuple[Page, PageWatch, str]:
    """A phone on the live server, watched for what a patient should never meet."""
    return page, watch_on_a_phone(page, live_server.url), live_server.url


def person_answers() -> dict[str, Any]:
    """Every question, low risk, but with a recent weight loss to open its branch."""
    answers = complete_answers(
        weight_loss=True,
        weight_loss_kg="8",
        weight_loss_months=10,
        glp1_medication="none",
        bariatric_surgery=False,
    )
    del answers["consent_health"]  # given on the start page, not asked again
    return answers


def answer_step(page: Page, answers: dict[str, Any]) -> set[str]:
    """Answer, in the given order, every question of `answers` this step asks.

    Radios and checkboxes are tapped by their value (the option code, or "yes"/"no"
    for a yes/no question); text is typed key by key. Returns the names answered.
    """
    answered = set()
    for name, value in answers.items():
        if field(page, name).count():
            answer(page, name, value)
            answered.add(name)
    return answered


def field(page: Page, name: str) -> Locator:
    """The inputs of one question of the step (several for radios and checkboxes)."""
    return page.locator(STEP_FORM).locator(f'[name="{name}"]')


def answer(page: Page, name: str, value: Any) -> None:
    inputs = field(page, name)
    kind = inputs.first.evaluate("input => input.type")
    if isinstance(value, list):
        for code in value:
            inputs.and_(page.locator(f'[value="{code}"]')).check()
    elif kind == "radio":
        code = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        inputs.and_(page.locator(f'[value="{code}"]')).check()
    elif kind == "checkbox":
        inputs.set_checked(bool(value))
    elif kind == "date":
        inputs.fill(str(value))  # the date picker's own text box
    else:
        type_into(page, name, str(value))


def type_into(page: Page, name: str, text: str) -> None:
    box = field(page, name)
    box.click()
    box.clear()
    box.press_sequentially(text)


def press_next(page: Page, *, key_in: str | None = None) -> Response:
    """Tap "Next" (or "Send"), or press Enter in the field `key_in` as a phone's "Go"
    key does; return the server's answer to the form.
    """
    with page.expect_response(
        lambda response: response.request.method == "POST"
    ) as posted:
        if key_in is None:
            page.locator(STEP_FORM).locator(NEXT).click()
        else:
            field(page, key_in).press("Enter")
    page.wait_for_load_state()
    return posted.value


def expect_step(page: Page, base: str, language: str, number: int) -> None:
    expect(page).to_have_url(f"{base}/{language}/consultation/step/{number}/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(".progress-steps [aria-current=step]")).to_have_count(1)
    assert fits_the_screen(page)


def expect_error_at(page: Page, name: str, message: str) -> None:
    """The server's message sits at the question, and the summary has the focus."""
    summary = page.locator("#errors-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    errors = page.locator(f"#q-{name} ul.errors#{name}-errors")
    expect(errors).to_be_visible()
    expect(errors).to_have_text(message)
    expect(field(page, name)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("ul.errors")).to_have_count(1)


def assert_about_three_screens(page: Page) -> None:
    """No step much taller than three phone screens (the issue's promise)."""
    height = page_height(page)
    assert height <= 3.5 * PHONE["height"], f"{page.url}: {height} px"


def message(language: str, english: str) -> str:
    with translation.override(language):
        return translation.gettext(english)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_patient_fills_the_whole_questionnaire_on_a_phone(
    patient: tuple[Page, PageWatch, str], language: str
) -> None:
    page, watch, base = patient
    answers = person_answers()
    answered: set[str] = set()
    shot = f"intake-{language}"

    # The start page: what this is, the privacy notice, consent.
    page.goto(f"{base}/{language}/consultation/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("section.privacy")).to_be_visible()
    assert fits_the_screen(page)
    shoot(page, f"{shot}-0-start")
    page.locator("#id_consent_health").check()
    page.locator("form.step-form button[type=submit]").click()

    # Step 1, the concern.
    expect_step(page, base, language, 1)
    answered |= answer_step(page, answers)
    shoot(page, f"{shot}-1")
    assert_about_three_screens(page)
    assert press_next(page).status == 302

    # Step 2: "yes" to weight loss opens its follow-up questions on the spot.
    expect_step(page, base, language, 2)
    kilograms = page.locator("#q-weight_loss_kg")
    expect(kilograms).to_be_hidden()
    answer(page, "weight_loss", True)
    expect(kilograms).to_be_visible()
    expect(field(page, "weight_loss_kg")).to_be_enabled()
    # The person forgets the kilograms, and the server says so beside the question.
    forgot = {k: v for k, v in answers.items() if k != "weight_loss_kg"}
    answered |= answer_step(page, forgot)
    assert press_next(page).status == 400
    expect_step(page, base, language, 2)
    expect_error_at(
        page, "weight_loss_kg", message(language, "Please answer this question.")
    )
    expect(field(page, "weight_loss").and_(page.locator("[value=yes]"))).to_be_checked()
    shoot(page, f"{shot}-2-error")
    answered |= answer_step(page, {"weight_loss_kg": answers["weight_loss_kg"]})
    assert_about_three_screens(page)  # with its follow-up questions open
    assert press_next(page).status == 302

    # Sun and daily life, health (three steps) and skin.
    for number in range(3, len(STEPS)):
        expect_step(page, base, language, number)
        answered |= answer_step(page, answers)
        shoot(page, f"{shot}-{number}")
        assert_about_three_screens(page)
        assert press_next(page).status == 302

    # The last step, about you: a mistyped email address comes back with its message.
    last = len(STEPS)
    expect_step(page, base, language, last)
    answered |= answer_step(page, {**answers, "email": "ayse.yilmaz.example.com"})
    assert press_next(page).status == 400
    expect_step(page, base, language, last)
    expect_error_at(
        page,
        "email",
        message(language, "Please enter an email address like name@example.com."),
    )
    screenshot(page, f"{shot}-{last}-error")
    type_into(page, "email", answers["email"])
    shoot(page, f"{shot}-{last}")
    # "Go" on the keyboard sends the answers (it must not mean "Back").
    assert press_next(page, key_in="email").status == 302

    # What happens next.
    expect(page).to_have_url(
        re.compile(
            rf"^{re.escape(base)}/{language}/consultation/done/[0-9a-f-]{{36}}/$"
        )
    )
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator(NEXT_STEPS).first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert fits_the_screen(page)
    shoot(page, f"{shot}-{last + 1}-done")
    assert answered == set(answers), "some answers were never asked for"
    # The two answers sent back with their errors, and nothing else went wrong.
    watch.assert_clean(
        expected_failures=[
            f"400 POST /{language}/consultation/step/2/",
            f"400 POST /{language}/consultation/step/{last}/",
        ]
    )


def test_without_javascript_every_question_can_still_be_answered_and_sent(
    browser: Browser, live_server: LiveServer, published: None
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    watch = watch_on_a_phone(page, live_server.url)
    base = live_server.url
    answers = person_answers()
    answered: set[str] = set()

    page.goto(f"{base}/en/consultation/")
    page.locator("#id_consent_health").check()
    page.locator("form.step-form button[type=submit]").click()
    for number in range(1, len(STEPS) + 1):
        expect_step(page, base, "en", number)
        if number == 2:
            # Without the script, a follow-up question is on the page from the start.
            expect(page.locator("#q-weight_loss_kg")).to_be_visible()
        answered |= answer_step(page, answers)
        assert press_next(page).status == 302

    expect(page.locator(NEXT_STEPS).first).to_be_visible()
    screenshot(page, "intake-no-javascript-done")
    assert answered == set(answers)
    watch.assert_clean()
    context.close()


def _born_years_ago(years: int) -> str:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=1).isoformat()


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_16_year_old_learns_the_guardian_path_before_any_health_question(
    patient: tuple[Page, PageWatch, str], language: str
) -> None:
    page, watch, base = patient
    page.goto(f"{base}/{language}/consultation/")
    page.locator("#id_consent_health").check()
    page.locator("form.step-form button[type=submit]").click()
    expect_step(page, base, language, 1)
    notice = page.locator("[data-minor-after]")
    expect(notice).to_be_hidden()

    # The date of birth comes first, and the page tells them as they type it.
    first_question = page.locator(f"{STEP_FORM} .question").first
    expect(first_question).to_have_attribute("id", "q-birth_date")
    answer(page, "birth_date", _born_years_ago(16))
    expect(notice).to_be_visible()
    answer_step(page, person_answers())
    answer(page, "birth_date", _born_years_ago(16))
    shoot(page, f"intake-{language}-under-18-step-1")
    assert press_next(page).status == 302

    # Before any health question: what happens next, and a way to go on.
    expect(page).to_have_url(f"{base}/{language}/consultation/under-18/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        message(language, "You are under 18: what happens next")
    )
    assert page.locator("[name=blood_thinners]").count() == 0
    assert fits_the_screen(page)
    shoot(page, f"intake-{language}-under-18")
    page.get_by_role(
        "link", name=message(language, "Go on with my parent or guardian")
    ).click()
    expect_step(page, base, language, 2)
    watch.assert_clean()


def test_save_and_finish_later_keeps_a_half_filled_health_step(
    patient: tuple[Page, PageWatch, str], browser: Browser
) -> None:
    page, watch, base = patient
    answers = person_answers()
    health = next(n for n, step in enumerate(STEPS, 1) if step.link_id == "health")
    page.goto(f"{base}/en/consultation/")
    page.locator("#id_consent_health").check()
    page.locator("form.step-form button[type=submit]").click()
    for number in range(1, health):
        expect_step(page, base, "en", number)
        answer_step(page, answers)
        assert press_next(page).status == 302

    # Half of the health step, then "Save and finish later".
    expect_step(page, base, "en", health)
    answer(page, "blood_thinners", ["aspirin"])
    answer(page, "bleeding_disorder", False)
    page.locator("details.save-later summary").click()
    expect(page.locator("#id_resume_email")).to_have_count(1)
    type_into(page, "resume_email", "ayse@example.com")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator('button[name="action"][value="save"]').click()
    assert posted.value.status == 302
    page.wait_for_load_state()
    expect_step(page, base, "en", health)
    expect(page.locator(".message-success")).to_be_visible()
    shoot(page, "intake-en-saved-for-later")
    watch.assert_clean()

    # The emailed link, opened on another phone, brings back every answer. (The
    # email itself is read at a real SMTP server in test_intake_email.)
    draft = ResumeEmail.objects.select_related("draft").get().draft
    link = base + reverse("intake:resume", args=[resume_token(draft)])
    other = browser.new_context(viewport=PHONE)
    phone = other.new_page()
    phone.goto(link)
    expect_step(phone, base, "en", health)
    expect(
        field(phone, "blood_thinners").and_(phone.locator("[value=aspirin]"))
    ).to_be_checked()
    expect(
        field(phone, "bleeding_disorder").and_(phone.locator("[value=no]"))
    ).to_be_checked()
    phone.goto(f"{base}/en/consultation/step/1/")
    expect(
        field(phone, "concern_kind").and_(phone.locator("[value=redness]"))
    ).to_be_checked()
    shoot(phone, "intake-en-resumed")
    other.close()

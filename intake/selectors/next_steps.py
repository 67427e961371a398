"""What happens next, told to the person who sent the questionnaire: per wanted
treatment book, wait for a physician, or not; and who gets in touch, how.

For that person only (the done page, the API's answer to their submission): it
decrypts their own answers, unaudited. Staff read through intake.services.health.
"""

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from intake.encryption import health_data_decrypt
from intake.hooks import BookingOffer, BookingOfferAsked, booking_offer
from intake.models import ScreeningResult, Submission
from intake.screening import Outcome, screening_result_from_dict
from intake.screening.results import outcomes_effective
from intake.selectors.questionnaires import questionnaire_definition_get
from intake.selectors.screening import (
    screening_effective_outcomes,
    screening_result_get_current,
)
from intake.validators import localised


@dataclass(frozen=True)
class NextStep:
    """What happens next for one wanted treatment, in the person's language."""

    kind: str  # book | review | deferred | not_offered
    treatment: str  # the code, e.g. mesotherapy
    treatment_name: str  # in the person's language
    sentences: tuple[str, ...]
    reconsider_on: dt.date | None = None
    until: str = ""


NEXT_STEP_KIND = {
    Outcome.ELIGIBLE: "book",
    Outcome.REVIEW: "review",
    Outcome.DEFERRED: "deferred",
    Outcome.CONTRAINDICATED: "not_offered",
}


def next_step_list(submission: Submission, *, language: str) -> list[NextStep]:
    """The done page's answer: per wanted treatment, book, wait for review, or not,
    after any physician decisions since.

    For the person who submitted only: it decrypts their own answers, unaudited.
    """
    current = screening_result_get_current(submission)
    effective = screening_effective_outcomes(submission, current=current)
    return _steps(submission, current, effective, language=language)


def next_step_list_new(
    submission: Submission, *, screening: ScreeningResult | None, language: str
) -> list[NextStep]:
    """next_step_list for a submission this request just stored with `screening`:
    nobody has decided on it yet, so nothing is read again."""
    effective = (
        outcomes_effective(
            screening.outcomes, physician_decides=screening.physician_decides
        )
        if screening
        else {}
    )
    return _steps(submission, screening, effective, language=language)


def _steps(
    submission: Submission,
    current: ScreeningResult | None,
    effective: Mapping[str, str],
    *,
    language: str,
) -> list[NextStep]:
    definition = questionnaire_definition_get(submission.questionnaire_version)
    answers = health_data_decrypt(submission.health_answers_ciphertext)
    wanted = [
        code for code in answers.get("treatments_wanted", []) if code != "not_sure"
    ]
    names = {
        option.code: localised(option.display)
        for option in definition.item("treatments_wanted").options
    }
    detail = (
        screening_result_from_dict(health_data_decrypt(current.detail_ciphertext))
        if current
        else None
    )
    steps: list[NextStep] = []
    for code in wanted:
        outcome = Outcome(effective.get(code, Outcome.REVIEW))
        treated = detail.treatments.get(code) if detail else None
        # A refusal waiting for a physician is told in its own rules' words.
        told = (
            Outcome.CONTRAINDICATED
            if treated and treated.physician_decides and outcome == Outcome.REVIEW
            else outcome
        )
        fired = [
            rule
            for rule in (treated.fired if treated else ())
            if rule.outcome == told and outcome != Outcome.ELIGIBLE
        ]
        sentences = tuple(dict.fromkeys(rule.patient.get(language) for rule in fired))
        untils = [rule.until.get(language) for rule in fired if rule.until]
        steps.append(
            NextStep(
                kind=NEXT_STEP_KIND.get(outcome, "review"),
                treatment=code,
                treatment_name=names.get(code, code),
                sentences=sentences,
                reconsider_on=treated.reconsider_on
                if treated and outcome == Outcome.DEFERRED
                else None,
                until=", ".join(dict.fromkeys(untils)),
            )
        )
    order = ("book", "review", "deferred", "not_offered")
    return sorted(steps, key=lambda step: order.index(step.kind))


@dataclass(frozen=True)
class FollowUp:
    """Who gets in touch after the questionnaire, how, and whether a link to choose
    a time follows: what a clinic website tells the person after sending it."""

    contact_by: str  # coordinator
    contact_channel: str  # phone | whatsapp | email
    contact_channel_name: str
    booking_link: bool
    message: str


def follow_up_get(submission: Submission, *, steps: Collection[NextStep]) -> FollowUp:
    """What happens next for the person, in the active language, from the next
    steps already worked out (no further reads of health data).

    Self-booking is not built yet: a coordinator sends free times, so no booking
    link follows any submission and `booking_link` stays false.
    """
    definition = questionnaire_definition_get(submission.questionnaire_version)
    channels = {
        option.code: localised(option.display)
        for option in definition.item("contact_channel").options
    }
    channel = channels.get(submission.contact_channel, submission.contact_channel)
    kinds = {step.kind for step in steps}
    if "book" in kinds:
        message = _(
            "A coordinator will contact you by %(channel)s with the times that are "
            "free."
        )
    elif "review" in kinds:
        message = _(
            "A coordinator will contact you by %(channel)s once a physician has "
            "looked at your answers."
        )
    else:
        message = _(
            "A coordinator will contact you by %(channel)s to talk about what may help."
        )
    return FollowUp(
        contact_by="coordinator",
        contact_channel=submission.contact_channel,
        contact_channel_name=channel,
        booking_link=False,
        message=message % {"channel": channel},
    )


def booking_offer_get(
    submission: Submission, *, steps: Collection[NextStep], language: str
) -> BookingOffer | None:
    """The free times the person may book on the spot, asked of the booking app
    (intake.hooks.booking_offer) only when a treatment may be booked now or from
    a deferral's end date."""
    if not any(
        step.kind == "book" or (step.kind == "deferred" and step.reconsider_on)
        for step in steps
    ):
        return None
    return booking_offer.ask(
        BookingOfferAsked(submission_id=submission.pk, language=language)
    )

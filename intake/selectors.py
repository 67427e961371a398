"""Reads for the questionnaire, drafts and submissions."""

import datetime as dt
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from clinics.models import Location
from clinics.selectors import location_scoped
from core.errors import BusinessError
from intake.encryption import health_data_decrypt
from intake.models import (
    IntakeDraft,
    QuestionnaireVersion,
    ScreeningOverride,
    ScreeningResult,
    ScreeningRuleSetVersion,
    Submission,
    VersionStatus,
)
from intake.questionnaires.definition import Definition, definition_load
from intake.screening import (
    Outcome,
    RuleSet,
    RuleSetInvalid,
    rule_set_load,
    screening_result_from_dict,
)
from intake.validators import localised

SHIPPED_QUESTIONNAIRE = "redness-intake"
SHIPPED_RULE_SET = "clinic"


class RuleSetRejected(BusinessError):
    code = "rule_set_invalid"


class QuestionnaireUnavailable(BusinessError):
    code = "questionnaire_unavailable"
    status_code = 404


def questionnaire_version_get_published(
    *, slug: str = SHIPPED_QUESTIONNAIRE
) -> QuestionnaireVersion:
    """The version new answers go to; QuestionnaireUnavailable if none is published."""
    version = (
        QuestionnaireVersion.objects.select_related("questionnaire")
        .filter(questionnaire__slug=slug, status=VersionStatus.PUBLISHED)
        .first()
    )
    if version is None:
        raise QuestionnaireUnavailable(
            f"No published version of the questionnaire “{slug}”."
        )
    return version


# Parsed definitions of published and retired versions, whose content never changes.
_frozen_definitions: dict[int, Definition] = {}


def questionnaire_definition_get(version: QuestionnaireVersion) -> Definition:
    """The parsed definition of a version (cached once it can no longer change)."""
    if version.status == VersionStatus.DRAFT:
        return definition_load(version.definition)
    definition = _frozen_definitions.get(version.pk)
    if definition is None:
        definition = _frozen_definitions[version.pk] = definition_load(
            version.definition
        )
    return definition


def location_list_active() -> QuerySet[Location]:
    """Locations a patient can choose, by name."""
    return Location.objects.filter(is_active=True).order_by("name")


def intake_draft_get(*, code: Any) -> IntakeDraft | None:
    """The draft with this public code, with its version, or None."""
    return (
        IntakeDraft.objects.select_related("questionnaire_version")
        .filter(code=code)
        .first()
    )


def intake_draft_answers(draft: IntakeDraft) -> dict[str, Any]:
    """A draft's answers so far, decrypted (for its own author only)."""
    answers: dict[str, Any] = health_data_decrypt(draft.answers_ciphertext)
    return answers


def submission_get(*, code: Any) -> Submission | None:
    """A submission by public code, with what its pages show (the patient's own
    pages; staff doors use submission_get_for_user)."""
    return (
        Submission.objects.select_related(
            "questionnaire_version__questionnaire", "location"
        )
        .filter(code=code)
        .first()
    )


def submission_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Submission]:
    """The submissions `user` may reach: those sent to a location they work at
    (all for clinic admins, none without a staff role)."""
    return location_scoped(Submission.objects.all(), user=user)


def submission_get_for_user(
    *, user: User | AnonymousUser, code: Any
) -> Submission | None:
    """One submission `user` may reach, by public code; None for another
    location's, exactly as for one that does not exist."""
    return (
        submission_list_for_user(user=user)
        .select_related("questionnaire_version__questionnaire", "location")
        .filter(code=code)
        .first()
    )


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


def screening_result_get_current(submission: Submission) -> ScreeningResult | None:
    """The submission's current stored screening result, if rules were published."""
    return submission.screening_results.filter(is_current=True).first()


def screening_effective_outcomes(
    submission: Submission, *, current: ScreeningResult | None
) -> dict[str, str]:
    """Outcome per treatment of the `current` result after physician decisions.

    The newest decision on this result wins; decisions on an earlier result do not
    carry over to a re-evaluation. A refusal on which a physician decides is
    `review` until one has. With no stored result every treatment needs review:
    nothing is bookable unseen.
    """
    if current is None:
        return {}
    outcomes = dict(current.outcomes)
    for treatment in current.physician_decides:
        outcomes[treatment] = Outcome.REVIEW
    decided: set[str] = set()
    for override in current.overrides.order_by("-decided_at", "-id"):
        if override.treatment in decided:
            continue
        decided.add(override.treatment)
        outcomes[override.treatment] = (
            Outcome.ELIGIBLE
            if override.decision == ScreeningOverride.Decision.CLEARED
            else Outcome.CONTRAINDICATED
        )
    return outcomes


def next_step_list(submission: Submission, *, language: str) -> list[NextStep]:
    """The done page's answer: per wanted treatment, book, wait for review, or not.

    For the person who submitted only: it decrypts their own answers, unaudited.
    """
    definition = questionnaire_definition_get(submission.questionnaire_version)
    answers = health_data_decrypt(submission.health_answers_ciphertext)
    wanted = [
        code for code in answers.get("treatments_wanted", []) if code != "not_sure"
    ]
    names = {
        option.code: localised(option.display)
        for option in definition.item("treatments_wanted").options
    }
    current = screening_result_get_current(submission)
    detail = (
        screening_result_from_dict(health_data_decrypt(current.detail_ciphertext))
        if current
        else None
    )
    effective = screening_effective_outcomes(submission, current=current)
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


def submission_exists(*, idempotency_key: str) -> bool:
    """Whether a submission was already made with this key."""
    return Submission.objects.filter(idempotency_key=idempotency_key).exists()


def submission_contact_answers(submission: Submission) -> dict[str, Any]:
    """The contact and consent items of a submission, as questionnaire answers."""
    return {
        "full_name": submission.full_name,
        "birth_date": submission.birth_date.isoformat(),
        "email": submission.email,
        "phone": submission.phone,
        "preferred_language": submission.preferred_language,
        "location": submission.location.slug,
        "contact_channel": submission.contact_channel,
        "contact_times": list(submission.contact_times),
        "consent_health": True,
        "consent_marketing": submission.consent_marketing,
        "photos": submission.photos.count(),
    }


def rule_set_compile(
    data: Mapping[str, Any],
    *,
    known_link_ids: Collection[str] | None = None,
    known_options: Mapping[str, Collection[str]] | None = None,
) -> RuleSet:
    """The engine's compiled rule set, or RuleSetRejected listing every problem."""
    try:
        return rule_set_load(
            data, known_link_ids=known_link_ids, known_options=known_options
        )
    except RuleSetInvalid as error:
        raise RuleSetRejected(
            "The rule set has problems: " + "; ".join(error.messages),
            fields={"definition": list(error.messages)},
        ) from error


def rule_set_compile_for(data: Mapping[str, Any], definition: Definition) -> RuleSet:
    """Compile rules that may read only the questions and options of `definition`.

    A rule on a renamed option would silently never fire: refused instead.
    """
    questions = [item for item in definition.items() if item.is_question]
    return rule_set_compile(
        data,
        known_link_ids={item.link_id for item in questions},
        known_options={
            item.link_id: {option.code for option in item.options}
            for item in questions
            if item.options
        },
    )


# Compiled rules of published and retired versions, whose content never changes.
_frozen_rule_sets: dict[int, RuleSet] = {}


def rule_set_get_compiled(version: ScreeningRuleSetVersion) -> RuleSet:
    """The compiled rules of a version (cached once the version is frozen)."""
    if version.status == VersionStatus.DRAFT:
        return rule_set_compile(version.definition)
    rules = _frozen_rule_sets.get(version.pk)
    if rules is None:
        rules = _frozen_rule_sets[version.pk] = rule_set_compile(version.definition)
    return rules


def screening_rule_set_version_get_published() -> ScreeningRuleSetVersion | None:
    """The rule-set version new submissions are screened with, if one is published."""
    return ScreeningRuleSetVersion.objects.filter(
        rule_set__slug=SHIPPED_RULE_SET, status=VersionStatus.PUBLISHED
    ).first()


@dataclass(frozen=True)
class RuleExplanation:
    """One fired rule in words: why, from which answers, on what authority."""

    outcome: str
    reason: str
    answers: tuple[str, ...]  # "Question: answer", in the questionnaire's words
    missing: tuple[str, ...]  # questions left unanswered that the rule needed
    source: str
    reconsider_on: dt.date | None


@dataclass(frozen=True)
class TreatmentExplanation:
    """One treatment's outcome, before and after physician decisions, with its rules."""

    treatment: str
    outcome: str  # as the rules decided
    effective: str  # after physician decisions
    rules: tuple[RuleExplanation, ...]


def screening_explain(
    submission: Submission,
    *,
    current: ScreeningResult | None,
    effective: dict[str, str],
) -> list[TreatmentExplanation]:
    """The `current` result of a submission in words, for staff (the caller audits).

    `effective` is screening_effective_outcomes' answer for the same result.
    """
    if current is None:
        return []
    definition = questionnaire_definition_get(submission.questionnaire_version)
    result = screening_result_from_dict(health_data_decrypt(current.detail_ciphertext))
    return [
        TreatmentExplanation(
            treatment=code,
            outcome=treated.outcome.value,
            effective=effective.get(code, treated.outcome.value),
            rules=tuple(
                RuleExplanation(
                    outcome=rule.outcome.value,
                    reason=rule.reason,
                    answers=tuple(
                        answer_in_words(definition, link_id, value)
                        for link_id, value in rule.evidence
                    ),
                    missing=tuple(
                        question_in_words(definition, link_id)
                        for link_id in rule.missing
                    ),
                    source=rule.source,
                    reconsider_on=rule.reconsider_on,
                )
                for rule in treated.fired
            ),
        )
        for code, treated in result.treatments.items()
    ]


def question_in_words(definition: Definition, link_id: str) -> str:
    """A question's text in English (staff read English), or its linkId if unknown."""
    try:
        return definition.item(link_id).text.en
    except KeyError:
        return link_id


def answer_in_words(definition: Definition, link_id: str, value: Any) -> str:
    """ "Question: answer" with option codes shown as the options' English text."""
    try:
        item = definition.item(link_id)
    except KeyError:
        return f"{link_id}: {value}"
    displays = {option.code: option.display.en for option in item.options}
    values = value if isinstance(value, list | tuple) else [value]
    words = [
        "yes" if one is True else "no" if one is False else displays.get(one, str(one))
        for one in values
    ]
    return f"{item.text.en}: {', '.join(words)}"


@dataclass(frozen=True)
class SubmissionScreening:
    """Everything staff see of a submission's screening (the caller audits the read)."""

    submission: uuid.UUID  # the public code
    rule_set_version: str | None
    evaluated_on: dt.date | None
    effective_outcomes: dict[str, str]
    explanations: list[TreatmentExplanation]
    result: dict[str, Any] | None
    overrides: list[ScreeningOverride]


def submission_screening_get(submission: Submission) -> SubmissionScreening:
    """The current result, the decisions on it, and each outcome in words."""
    current = screening_result_get_current(submission)
    effective = screening_effective_outcomes(submission, current=current)
    return SubmissionScreening(
        submission=submission.code,
        rule_set_version=str(current.rule_set_version) if current else None,
        evaluated_on=current.evaluated_on if current else None,
        effective_outcomes=effective,
        explanations=screening_explain(
            submission, current=current, effective=effective
        ),
        result=health_data_decrypt(current.detail_ciphertext) if current else None,
        overrides=list(
            current.overrides.select_related("decided_by").order_by("-decided_at")
        )
        if current
        else [],
    )

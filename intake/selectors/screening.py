"""Reads of screening: the published rules, compiled; a submission's current result
and its outcomes after physician decisions; a decrypted result told in words.

Nothing here decrypts: staff read a result's detail through
intake.services.health, which audits the read first.
"""

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.config_cache import config_cached
from core.errors import BusinessError
from intake.models import (
    ScreeningOverride,
    ScreeningResult,
    ScreeningRuleSetVersion,
    Submission,
    VersionStatus,
)
from intake.questionnaires.definition import Definition
from intake.screening import Outcome, RuleSet, RuleSetInvalid, rule_set_load
from intake.screening import ScreeningResult as ScreeningDetail
from intake.screening.results import outcomes_effective
from intake.selectors.questionnaires import answer_in_words, question_in_words

SHIPPED_RULE_SET = "clinic"

# The outcomes a treatment can end with (`info` is a rule's class only): what the
# staff queue filters on.
TREATMENT_OUTCOMES: tuple[str, ...] = tuple(
    outcome.value for outcome in Outcome if outcome != Outcome.INFO
)


class RuleSetRejected(BusinessError):
    code = "rule_set_invalid"


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
    return config_cached(
        "published rule set",
        lambda: ScreeningRuleSetVersion.objects.filter(
            rule_set__slug=SHIPPED_RULE_SET, status=VersionStatus.PUBLISHED
        ).first(),
    )


def screening_result_get_current(submission: Submission) -> ScreeningResult | None:
    """The submission's current stored screening result, if rules were published."""
    return submission.screening_results.filter(is_current=True).first()


def screening_effective_outcomes(
    submission: Submission,
    *,
    current: ScreeningResult | None,
    overrides: Iterable[ScreeningOverride] | None = None,
) -> dict[str, str]:
    """Outcome per treatment of the `current` result after physician decisions.

    The newest decision on this result wins; decisions on an earlier result do not
    carry over to a re-evaluation. A refusal on which a physician decides is
    `review` until one has. With no stored result every treatment needs review:
    nothing is bookable unseen. `overrides`: the result's decisions, newest first,
    when the caller already has them (else one query).
    """
    if current is None:
        return {}
    if overrides is None:
        overrides = current.overrides.order_by("-decided_at", "-id")
    return outcomes_effective(
        current.outcomes,
        physician_decides=current.physician_decides,
        decisions=[
            (one.treatment, one.decision == ScreeningOverride.Decision.CLEARED)
            for one in overrides
        ],
    )


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
    definition: Definition,
    detail: ScreeningDetail,
    *,
    effective: Mapping[str, str],
) -> list[TreatmentExplanation]:
    """A decrypted result (`detail`) in the words of `definition`, for staff.

    `effective` is screening_effective_outcomes' answer for the same result.
    """
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
        for code, treated in detail.treatments.items()
    ]

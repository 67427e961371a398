"""Evaluate answers against a rule set: pure, deterministic, no I/O.

A rule whose condition is unknown (questions it needs unanswered) fires as `review`, so
an unanswered screening question never leaves a treatment `eligible`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from intake.screening.conditions import AGE
from intake.screening.profiles import sensitivity_profile, trigger_profile
from intake.screening.results import (
    OUTCOME_RANK,
    FiredRule,
    Outcome,
    ScreeningResult,
    TreatmentOutcome,
    evidence_value,
)
from intake.screening.ruleset import Rule, RuleSet


def evaluate(
    answers: Mapping[str, Any],
    rule_set: RuleSet,
    *,
    today: date,
    birth_date: date | None,
) -> ScreeningResult:
    """Screen `answers` ({linkId: value}) on the day `today`.

    Absent, null, empty-text and empty-list answers count as unanswered. Every treatment
    of the rule set gets an outcome; the answers are not modified.
    """
    # Empty answers count as unanswered, so a null never reads as "no"; age comes
    # from birth_date only.
    values = {
        link_id: value
        for link_id, value in answers.items()
        if value is not None and value != "" and value != [] and link_id != AGE
    }
    if birth_date is not None:
        values[AGE] = age_on(birth_date, today)
    fired: dict[str, list[FiredRule]] = {code: [] for code in rule_set.treatments}
    for rule in rule_set.rules:
        decided = rule.when.value(values, today)
        if decided is False or (decided is None and rule.outcome is Outcome.INFO):
            continue
        fired_rule = _fire(rule, rule_set, values, today, known=decided is True)
        for code in rule.treatments:
            fired[code].append(fired_rule)
    return ScreeningResult(
        evaluated_on=today,
        treatments={code: _treatment(rules) for code, rules in fired.items()},
        triggers=trigger_profile(answers),
        sensitivity=sensitivity_profile(answers),
    )


def age_on(birth_date: date, today: date) -> int:
    """Whole years completed on `today` (a 29 February birthday counts from 1 March)."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def _fire(
    rule: Rule,
    rule_set: RuleSet,
    values: Mapping[str, Any],
    today: date,
    *,
    known: bool,
) -> FiredRule:
    evidence_ids: list[str] = []
    missing_ids: list[str] = []
    rule.when.explain(values, today, evidence_ids, missing_ids)
    evidence = tuple(
        (link_id, evidence_value(values[link_id])) for link_id in _unique(evidence_ids)
    )
    if not known:
        missing = _unique(missing_ids)
        return FiredRule(
            rule_id=rule.id,
            outcome=Outcome.REVIEW,
            reason=f"Not answered: {', '.join(missing)} (checks: {rule.reason})",
            patient=rule_set.unanswered,
            until=None,
            source=rule.source,
            reconsider_on=None,
            evidence=evidence,
            missing=missing,
        )
    is_deferred = rule.outcome is Outcome.DEFERRED
    return FiredRule(
        rule_id=rule.id,
        outcome=rule.outcome,
        reason=rule.reason,
        patient=rule.patient,
        until=rule.until if is_deferred else None,
        source=rule.source,
        reconsider_on=(
            rule.defer.reconsider_on(values) if is_deferred and rule.defer else None
        ),
        evidence=evidence,
        physician_decides=rule.physician_decides,
    )


def _treatment(fired: list[FiredRule]) -> TreatmentOutcome:
    outcome = Outcome.ELIGIBLE
    for rule in fired:
        rank = OUTCOME_RANK.get(rule.outcome)  # info has no rank
        if rank is not None and rank > OUTCOME_RANK[outcome]:
            outcome = rule.outcome
    reconsider_on = None
    if outcome is Outcome.DEFERRED:
        dates = [rule.reconsider_on for rule in fired if rule.outcome is outcome]
        if all(dates):
            reconsider_on = max(d for d in dates if d is not None)
    return TreatmentOutcome(
        outcome=outcome, fired=tuple(fired), reconsider_on=reconsider_on
    )


def _unique(link_ids: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(link_ids))

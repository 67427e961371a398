"""Safety properties of the shipped rule set, for any answer set the form can submit."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from intake.screening import (
    OUTCOME_RANK,
    Outcome,
    evaluate,
    rule_set_load,
    screening_result_from_dict,
    shipped_rule_set_data,
)
from tests.support.screening_contract import (
    INJECTABLE_OR_ENERGY,
    ITEMS,
    ITEMS_BY_ID,
    TODAY,
    is_enabled,
)
from tests.support.screening_strategies import (
    answer_sets,
    answer_values,
    birth_dates,
    minor_birth_dates,
)

RULE_SET = rule_set_load(shipped_rule_set_data())
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _ranks(answers: dict[str, Any], birth_date: date | None) -> dict[str, int]:
    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)
    return {code: OUTCOME_RANK[t.outcome] for code, t in result.treatments.items()}


def _risk_steps(answers: dict[str, Any]) -> list[tuple[str, Any]]:
    """Each single added risk: a false turned true, an option added, `none` replaced."""
    steps: list[tuple[str, Any]] = []
    for link_id, value in answers.items():
        item = ITEMS_BY_ID[link_id]
        if item.type == "boolean" and value is False:
            steps.append((link_id, True))
        elif item.repeats and isinstance(value, list):
            current = [code for code in value if code != item.exclusive]
            for code in item.options:
                if code != item.exclusive and code not in current:
                    steps.append((link_id, [*current, code]))
    return steps


@PROPERTY_SETTINGS
@given(answers=answer_sets(), birth_date=birth_dates(), data=st.data())
def test_adding_a_risk_answer_never_makes_a_treatment_less_restricted(
    answers: dict[str, Any], birth_date: date | None, data: st.DataObject
) -> None:
    steps = _risk_steps(answers)
    if not steps:
        return
    link_id, riskier_value = data.draw(st.sampled_from(steps))
    riskier = {**answers, link_id: riskier_value}
    # The added answer may enable follow-up questions; answer some of them.
    for item in ITEMS:
        newly_enabled = is_enabled(item, riskier) and not is_enabled(item, answers)
        if newly_enabled and item.link_id not in riskier and data.draw(st.booleans()):
            riskier[item.link_id] = data.draw(answer_values(item))

    before = _ranks(answers, birth_date)
    after = _ranks(riskier, birth_date)

    for code, rank in before.items():
        assert after[code] >= rank, (code, link_id, riskier_value)


@PROPERTY_SETTINGS
@given(answers=answer_sets(), birth_date=birth_dates())
def test_an_unanswered_screening_question_never_leaves_a_treatment_eligible(
    answers: dict[str, Any], birth_date: date | None
) -> None:
    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)

    unanswered = {
        item.link_id
        for item in ITEMS
        if item.link_id not in answers and is_enabled(item, answers)
    }
    if birth_date is None:
        unanswered.add("age")
    for rule in RULE_SET.rules:
        if rule.outcome == Outcome.INFO or not rule.items & unanswered:
            continue
        for code in rule.treatments:
            assert result.treatments[code].outcome != Outcome.ELIGIBLE, (rule.id, code)


@PROPERTY_SETTINGS
@given(answers=answer_sets(), birth_date=minor_birth_dates())
def test_under_18s_are_never_eligible_for_injectable_or_energy_treatments(
    answers: dict[str, Any], birth_date: date
) -> None:
    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)

    for code in INJECTABLE_OR_ENERGY:
        assert result.treatments[code].outcome != Outcome.ELIGIBLE, code


@PROPERTY_SETTINGS
@given(answers=answer_sets(), birth_date=birth_dates())
def test_evaluation_is_deterministic_and_survives_a_json_round_trip(
    answers: dict[str, Any], birth_date: date | None
) -> None:
    first = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)
    second = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)

    assert first == second
    stored = json.dumps(first.to_dict(), allow_nan=False)
    assert screening_result_from_dict(json.loads(stored)) == first


@PROPERTY_SETTINGS
@given(answers=answer_sets(missing=False), birth_date=birth_dates())
def test_a_treatment_is_eligible_only_when_no_restricting_rule_fired(
    answers: dict[str, Any], birth_date: date | None
) -> None:
    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=birth_date)

    for outcome in result.treatments.values():
        restricting = [r for r in outcome.fired if r.outcome != Outcome.INFO]
        assert (outcome.outcome == Outcome.ELIGIBLE) == (not restricting)
        if restricting:
            worst = max(OUTCOME_RANK[r.outcome] for r in restricting)
            assert OUTCOME_RANK[outcome.outcome] == worst

"""The rule loader refuses a broken rule set and says which rule and field is wrong."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
import yaml

from intake.screening import (
    Outcome,
    RuleSetInvalid,
    evaluate,
    rule_set_load,
    shipped_rule_set_data,
    shipped_rule_set_path,
)
from tests.support.screening_contract import LINK_IDS, OPTIONS

TEXT = {"en": "A physician will look at your answers.", "tr": "Hekimimiz inceleyecek."}


def rule(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "meso_example",
        "treatments": ["mesotherapy"],
        "when": {"item": "epilepsy", "equals": True},
        "outcome": "review",
        "reason": "Epilepsy",
        "patient": dict(TEXT),
        "source": "Example source",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def rule_set(*rules: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "treatments": ["mesotherapy", "laser_ipl"],
        "unanswered": dict(TEXT),
        "rules": list(rules),
        **fields,
    }


def messages_for(data: dict[str, Any], **kwargs: Any) -> list[str]:
    with pytest.raises(RuleSetInvalid) as caught:
        rule_set_load(data, **kwargs)
    return caught.value.messages


def test_a_valid_rule_set_loads_and_evaluates() -> None:
    loaded = rule_set_load(rule_set(rule()))

    result = evaluate(
        {"epilepsy": True}, loaded, today=date(2026, 1, 1), birth_date=None
    )

    assert result.treatments["mesotherapy"].outcome == Outcome.REVIEW
    assert result.treatments["laser_ipl"].outcome == Outcome.ELIGIBLE


def test_unknown_operator_is_rejected_naming_the_rule() -> None:
    data = rule_set(rule(when={"item": "epilepsy", "is": True}))

    (message,) = messages_for(data)

    assert message.startswith("rule meso_example: when")
    assert "unknown operator 'is'" in message


def test_unknown_operator_deep_in_a_condition_names_its_path() -> None:
    when = {"all": [{"item": "epilepsy", "equals": True}, {"not": {"item": "x"}}]}

    (message,) = messages_for(rule_set(rule(when=when)))

    assert message.startswith("rule meso_example: when.all[1].not")


def test_missing_source_is_rejected_naming_the_rule() -> None:
    (message,) = messages_for(rule_set(rule(source=None)))

    assert message == "rule meso_example: source: missing"


def test_blank_source_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(source="  ")))

    assert message == "rule meso_example: source: must be non-empty text"


def test_deferred_rule_without_defer_or_until_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(outcome="deferred")))

    assert message.startswith("rule meso_example: defer:")


def test_deferred_rule_with_only_an_until_text_loads() -> None:
    loaded = rule_set_load(rule_set(rule(outcome="deferred", until=dict(TEXT))))

    assert loaded.rules[0].until is not None


@pytest.mark.parametrize(
    ("defer", "expected"),
    [
        ({"days": 28}, "rule meso_example: defer: after: missing"),
        ({"after": "recent_tan_date"}, "exactly one of `days` or `months`"),
        ({"after": "recent_tan_date", "days": 0}, "days: needs a whole number"),
        ({"after": "recent_tan_date", "weeks": 4}, "weeks: unknown key"),
    ],
    ids=["no_after", "no_span", "zero_days", "unknown_key"],
)
def test_malformed_defer_is_rejected(defer: dict[str, Any], expected: str) -> None:
    messages = messages_for(rule_set(rule(outcome="deferred", defer=defer)))

    assert any(expected in message for message in messages), messages


def test_unknown_outcome_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(outcome="maybe")))

    assert message.startswith("rule meso_example: outcome: 'maybe' is not one of")


def test_eligible_is_not_a_rule_outcome() -> None:
    messages = messages_for(rule_set(rule(outcome="eligible")))

    assert messages[0].startswith("rule meso_example: outcome:")


def test_patient_text_without_turkish_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(patient={"en": "Hello"})))

    assert message == "rule meso_example: patient: tr: missing"


def test_unknown_rule_key_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(severity="high")))

    assert message.startswith("rule meso_example: severity: unknown key")


def test_unknown_rule_set_key_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(), version=2))

    assert message.startswith("rule set: version: unknown key")


def test_rule_for_a_treatment_outside_the_rule_set_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(treatments=["botox"])))

    assert message == "rule meso_example: treatments: 'botox' is not in the rule set"


def test_duplicate_rule_ids_are_rejected() -> None:
    (message,) = messages_for(rule_set(rule(), rule()))

    assert message == "rule meso_example: id: used by an earlier rule"


def test_unknown_item_is_rejected_when_link_ids_are_known() -> None:
    data = rule_set(rule(when={"item": "epilepsey", "equals": True}))

    (message,) = messages_for(data, known_link_ids=LINK_IDS)

    assert message == "rule meso_example: when: unknown item 'epilepsey'"


def test_age_is_always_a_known_item() -> None:
    data = rule_set(rule(when={"item": "age", "lt": 18}))

    assert rule_set_load(data, known_link_ids=LINK_IDS).rules[0].items == {"age"}


def test_misspelt_option_code_is_rejected_when_options_are_known() -> None:
    data = rule_set(rule(when={"item": "blood_thinners", "any_of": ["warafrin"]}))

    (message,) = messages_for(data, known_options=OPTIONS)

    assert "'warafrin' is not an option of blood_thinners" in message


def test_a_bare_yaml_no_is_caught_as_a_wrong_option() -> None:
    when = yaml.safe_load("{item: diabetes, equals: no}")

    (message,) = messages_for(rule_set(rule(when=when)), known_options=OPTIONS)

    assert "False is not an option of diabetes" in message


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ({"item": "age", "lt": "18"}, "when.lt: needs a number"),
        ({"item": "x", "within_days": 0}, "when.within_days: needs a whole number"),
        ({"item": "x", "in": []}, "when.in: needs a non-empty list"),
        ({"item": "x", "answered": "yes"}, "when.answered: needs true or false"),
        ({"item": "x", "equals": 1, "in": [1]}, "needs exactly one operator"),
        ({"any": []}, "when.any: needs at least one condition"),
        ({"all": [], "any": []}, "one combinator, alone"),
        ({"equals": True}, "needs `item`"),
        ("epilepsy", "a condition is a mapping"),
    ],
    ids=[
        "text_bound",
        "zero_days",
        "empty_in",
        "answered_text",
        "two_operators",
        "empty_any",
        "two_combinators",
        "no_item",
        "not_a_mapping",
    ],
)
def test_malformed_condition_is_rejected(when: object, expected: str) -> None:
    messages = messages_for(rule_set(rule(when=when)))

    assert any(expected in message for message in messages), messages


def test_every_problem_is_reported_at_once() -> None:
    broken = rule(id="meso_broken", outcome="deferred", source=None)
    other = rule(id="meso_other", when={"item": "x", "is": 1})

    messages = messages_for(rule_set(rule(), broken, other))

    assert [message.split(":")[0] for message in messages] == [
        "rule meso_broken",
        "rule meso_broken",
        "rule meso_other",
    ]


def test_rule_without_an_id_is_named_by_its_position() -> None:
    messages = messages_for(rule_set(rule(), rule(id=None)))

    assert messages[0].startswith("rule #2: id: missing")


def test_shipped_rule_file_is_the_one_the_helpers_read() -> None:
    assert shipped_rule_set_path().name == "clinic.yaml"
    data = shipped_rule_set_data()
    assert data == yaml.safe_load(shipped_rule_set_path().read_text(encoding="utf-8"))


def test_loading_does_not_change_the_data() -> None:
    data = shipped_rule_set_data()
    before = copy.deepcopy(data)

    rule_set_load(data)

    assert data == before


def test_a_treatment_listed_twice_is_rejected() -> None:
    (message,) = messages_for(rule_set(rule(treatments=["mesotherapy", "mesotherapy"])))

    assert message == "rule meso_example: treatments: a code is listed twice"

"""A stored result reads back as it was written, so old outcomes can be explained."""

from __future__ import annotations

import json

import pytest

from intake.screening import (
    Outcome,
    ScreeningResult,
    evaluate,
    rule_set_load,
    screening_result_from_dict,
    shipped_rule_set_data,
)
from tests.support.screening_contract import (
    ADULT_BIRTH_DATE,
    TODAY,
    answers_with,
    days_ago,
)

RULE_SET = rule_set_load(shipped_rule_set_data())


def busy_result() -> ScreeningResult:
    answers = answers_with(
        blood_thinners=["warfarin", "aspirin"],
        recent_tan=True,
        recent_tan_date=days_ago(3),
        pregnancy_status="breastfeeding",
        fitzpatrick=None,
        weight_loss=True,
        weight_loss_kg=7.5,
        weight_loss_months=3,
        needle_fear=True,
    )
    return evaluate(answers, RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE)


def test_result_survives_a_json_round_trip() -> None:
    result = busy_result()

    stored = json.dumps(result.to_dict(), ensure_ascii=False)

    assert screening_result_from_dict(json.loads(stored)) == result


def test_stored_result_uses_plain_json_with_iso_dates() -> None:
    data = busy_result().to_dict()

    assert data["format"] == 1
    assert data["evaluated_on"] == TODAY.isoformat()
    laser = data["treatments"]["laser_ipl"]
    assert laser["outcome"] == "deferred"
    assert laser["reconsider_on"] is None  # breastfeeding has no date
    tan = next(r for r in laser["fired"] if r["rule_id"] == "laser_recent_tan")
    assert tan["reconsider_on"] == "2026-12-22"
    assert tan["evidence"] == [["recent_tan", True], ["recent_tan_date", days_ago(3)]]
    fitzpatrick = next(
        r for r in laser["fired"] if r["rule_id"] == "laser_fitzpatrick_6"
    )
    assert fitzpatrick["missing"] == ["fitzpatrick"]
    assert data["triggers"]["weight_loss_kg_per_month"] == 2.5


def test_outcomes_summary_names_every_treatment() -> None:
    result = busy_result()

    assert result.outcomes() == {
        "mesotherapy": Outcome.CONTRAINDICATED,
        "laser_ipl": Outcome.DEFERRED,
        "radiofrequency": Outcome.DEFERRED,
        "prp": Outcome.DEFERRED,
        "skincare": Outcome.ELIGIBLE,
    }


def test_unknown_result_format_is_refused() -> None:
    data = busy_result().to_dict()
    data["format"] = 99

    with pytest.raises(ValueError, match="unknown screening result format"):
        screening_result_from_dict(data)

"""A lead's score and priority, explained by its parts."""

from typing import Any

import pytest

from intake.models import QuestionnaireVersion
from leads.scoring import lead_score
from tests.support.submitting import lead_of, submit


def _score(answers: dict[str, Any], outcomes: dict[str, str]) -> Any:
    return lead_score(
        outcomes=outcomes,
        not_sure="not_sure" in answers.get("treatments_wanted", []),
        severity=answers.get("severity"),
        duration=answers.get("concern_duration"),
        timing=answers.get("treatment_timing"),
        active_triggers=(),
        completeness=1.0,
    )


def test_the_parts_add_up_to_the_score_and_say_why(
    published: QuestionnaireVersion,
) -> None:
    lead = lead_of(submit(published, treatment_timing="as_soon_as_possible"))

    assert sum(part["points"] for part in lead.score_parts) == lead.score
    assert all(part["points"] <= part["most"] for part in lead.score_parts)
    details = {part["factor"]: part["detail"] for part in lead.score_parts}
    assert details["timing"] == "Wants to start as soon as possible"
    assert "mesotherapy eligible" in details["treatments"]
    # No words of the health answers: coordinators read the score unaudited.
    assert details["severity"] == details["duration"] == details["triggers"] == ""


@pytest.mark.parametrize(
    ("answers", "outcomes", "priority"),
    [
        (
            {"severity": "severe", "treatment_timing": "as_soon_as_possible",
             "concern_duration": "over_3_years"},
            {"mesotherapy": "eligible", "laser_ipl": "eligible"},
            "high",
        ),
        (
            {"severity": "mild", "treatment_timing": "within_3_months",
             "concern_duration": "1_to_3_years"},
            {"mesotherapy": "review"},
            "normal",
        ),
        (
            {"severity": "almost_clear", "treatment_timing": "just_exploring"},
            {"skincare": "eligible"},
            "low",
        ),
        # Nothing can be offered online: low, however keen.
        (
            {"severity": "severe", "treatment_timing": "as_soon_as_possible",
             "concern_duration": "over_3_years"},
            {"mesotherapy": "contraindicated"},
            "low",
        ),
    ],
)  # fmt: skip
def test_priority_follows_urgency_and_what_can_be_offered(
    answers: dict[str, Any], outcomes: dict[str, str], priority: str
) -> None:
    assert _score(answers, outcomes).priority == priority


def test_a_keener_person_never_scores_lower() -> None:
    keen = _score({"treatment_timing": "as_soon_as_possible"}, {"prp": "eligible"})
    exploring = _score({"treatment_timing": "just_exploring"}, {"prp": "eligible"})

    assert keen.total > exploring.total

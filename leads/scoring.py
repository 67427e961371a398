"""A lead's score and priority, with the parts that make it up. No database access.

The score (0-100) says how likely and how soon the person can be helped: the
screening outcomes of the treatments they asked about, how red their skin is and
for how long, what drives it, how soon they want to start and how fully they
answered. Each part is kept with its points so a coordinator sees why.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake.screening.results import Outcome

HIGH_FROM = 70
NORMAL_FROM = 35

_OUTCOME_POINTS = {
    Outcome.ELIGIBLE: 15,
    Outcome.REVIEW: 8,
    Outcome.DEFERRED: 3,
    Outcome.CONTRAINDICATED: 0,
}
_TREATMENT_CAP = 30
_SEVERITY = {
    "severe": (20, "Severe redness"),
    "moderate": (15, "Moderate redness"),
    "mild": (8, "Mild redness"),
    "almost_clear": (3, "Almost clear"),
    "clear": (0, "No redness on a typical day"),
}
_DURATION = {
    "over_3_years": (10, "Has had it for more than 3 years"),
    "1_to_3_years": (8, "Has had it for 1 to 3 years"),
    "6_to_12_months": (5, "Has had it for 6 to 12 months"),
    "under_6_months": (3, "Has had it for less than 6 months"),
}
_TIMING = {
    "as_soon_as_possible": (25, "Wants to start as soon as possible"),
    "within_a_month": (18, "Wants to start within a month"),
    "within_3_months": (8, "Wants to start within 3 months"),
    "just_exploring": (0, "Is just finding out for now"),
}
_TRIGGER_POINTS = 2
_TRIGGER_CAP = 10
_COMPLETENESS_MAX = 5


@dataclass(frozen=True)
class ScorePart:
    factor: str
    points: int
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return {"factor": self.factor, "points": self.points, "detail": self.detail}


@dataclass(frozen=True)
class Score:
    total: int
    priority: str  # a Lead.Priority value
    parts: tuple[ScorePart, ...]


def lead_score(
    *,
    answers: Mapping[str, Any],
    outcomes: Mapping[str, str],
    active_triggers: Sequence[str],
    completeness: float,
) -> Score:
    """Score a submission: `outcomes` are the effective outcomes of the treatments
    wanted, `completeness` the share (0-1) of shown questions answered.

    Priority is high from 70, normal from 35, else low; and low whenever every
    wanted treatment is contraindicated, since none can be offered online.
    """
    parts = [
        _treatments_part(
            outcomes, not_sure="not_sure" in answers.get("treatments_wanted", [])
        ),
        _choice_part("severity", _SEVERITY, answers.get("severity")),
        _choice_part("duration", _DURATION, answers.get("concern_duration")),
        _choice_part("timing", _TIMING, answers.get("treatment_timing")),
        _triggers_part(active_triggers),
        ScorePart(
            "completeness",
            round(_COMPLETENESS_MAX * max(0.0, min(1.0, completeness))),
            f"Answered {round(100 * completeness)}% of the questions shown",
        ),
    ]
    total = max(0, min(100, sum(part.points for part in parts)))
    nothing_offerable = bool(outcomes) and all(
        outcome == Outcome.CONTRAINDICATED for outcome in outcomes.values()
    )
    if nothing_offerable or total < NORMAL_FROM:
        priority = "low"
    elif total >= HIGH_FROM:
        priority = "high"
    else:
        priority = "normal"
    return Score(total=total, priority=priority, parts=tuple(parts))


def _treatments_part(outcomes: Mapping[str, str], *, not_sure: bool) -> ScorePart:
    points = sum(_OUTCOME_POINTS.get(Outcome(o), 0) for o in outcomes.values())
    words = [
        f"{treatment} {outcome}" for treatment, outcome in sorted(outcomes.items())
    ]
    if not_sure:
        points += _OUTCOME_POINTS[Outcome.REVIEW]
        words.append("not sure which treatment")
    return ScorePart(
        "treatments",
        min(points, _TREATMENT_CAP),
        "; ".join(words) or "No treatment chosen",
    )


def _choice_part(
    factor: str, table: Mapping[str, tuple[int, str]], answer: object
) -> ScorePart:
    points, detail = table.get(str(answer), (0, "Not answered"))
    return ScorePart(factor, points, detail)


def _triggers_part(active: Sequence[str]) -> ScorePart:
    if not active:
        return ScorePart("triggers", 0, "No trigger reported")
    return ScorePart(
        "triggers",
        min(_TRIGGER_POINTS * len(active), _TRIGGER_CAP),
        "Reported: " + ", ".join(t.replace("_", " ") for t in active),
    )

"""A lead's score and priority, with the parts that make it up. No database access.

The score (0-100) says how likely and how soon the person can be helped: the
screening outcomes of the treatments they asked about, how red their skin is and
for how long, what drives it, how soon they want to start and how fully they
answered. Each part is kept with its points out of its most, so a coordinator sees
why. The parts drawn from health answers (severity, duration, triggers) carry no
words: the answers themselves are read through the audited health endpoint.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intake.screening.results import Outcome


def gettext_noop(text: str) -> str:
    """Marks `text` for makemessages; this module stays free of Django."""
    return text


HIGH_FROM = 70
# The answer option for someone who does not know which treatment they want.
NORMAL_FROM = 35

_OUTCOME_POINTS = {
    Outcome.ELIGIBLE: 15,
    Outcome.REVIEW: 8,
    Outcome.DEFERRED: 3,
    Outcome.CONTRAINDICATED: 0,
}
_TREATMENT_CAP = 30
_SEVERITY = {"severe": 20, "moderate": 15, "mild": 8, "almost_clear": 3, "clear": 0}
_DURATION = {
    "over_3_years": 10,
    "1_to_3_years": 8,
    "6_to_12_months": 5,
    "under_6_months": 3,
}
_TIMING = {
    "as_soon_as_possible": (25, gettext_noop("Wants to start as soon as possible")),
    "within_a_month": (18, gettext_noop("Wants to start within a month")),
    "within_3_months": (8, gettext_noop("Wants to start within 3 months")),
    "just_exploring": (0, gettext_noop("Is just finding out for now")),
}
_TRIGGER_POINTS = 2
_TRIGGER_CAP = 10
_COMPLETENESS_MAX = 5


@dataclass(frozen=True)
class ScorePart:
    factor: str
    points: int
    most: int
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "factor": self.factor,
            "points": self.points,
            "most": self.most,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class Score:
    total: int
    priority: str  # a Lead.Priority value
    parts: tuple[ScorePart, ...]


def lead_score(
    *,
    outcomes: Mapping[str, str],
    not_sure: bool,
    severity: str | None,
    duration: str | None,
    timing: str | None,
    active_triggers: Sequence[str],
    completeness: float,
) -> Score:
    """Score a submission: `outcomes` are the effective outcomes of the treatments
    wanted (`not_sure`: also "not sure which"), severity, duration and timing the
    answers' option codes, `completeness` the share (0-1) of shown questions answered.

    Priority is high from 70, normal from 35, else low; and low whenever every
    wanted treatment is contraindicated, since none can be offered online.
    """
    parts = [
        _treatments_part(outcomes, not_sure=not_sure),
        _health_part("severity", _SEVERITY, severity),
        _health_part("duration", _DURATION, duration),
        _timing_part(timing),
        ScorePart(
            "triggers",
            min(_TRIGGER_POINTS * len(active_triggers), _TRIGGER_CAP),
            _TRIGGER_CAP,
        ),
        ScorePart(
            "completeness",
            round(_COMPLETENESS_MAX * max(0.0, min(1.0, completeness))),
            _COMPLETENESS_MAX,
            # English as stored; staff.templatetags.staff.score_detail translates it.
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
        _TREATMENT_CAP,
        "; ".join(words) or "No treatment chosen",
    )


def _health_part(factor: str, table: Mapping[str, int], answer: object) -> ScorePart:
    return ScorePart(factor, table.get(str(answer), 0), max(table.values()))


def _timing_part(answer: object) -> ScorePart:
    points, detail = _TIMING.get(str(answer), (0, gettext_noop("Not answered")))
    return ScorePart("timing", points, max(p for p, _ in _TIMING.values()), detail)

"""Trigger and sensitivity profiles: what the answers say about causes and skin.

They shape advice and messages; they never change a treatment's outcome. Unanswered or
unreadable answers count as "not reported".
"""

from __future__ import annotations

import math
from typing import Any

from intake.screening.conditions import Answers
from intake.screening.results import SensitivityProfile, TriggerProfile

# Above the UK low-risk drinking guideline of 14 units a week.
ALCOHOL_UNITS_PER_WEEK_LIMIT = 14

_SUN_HOURS = {"under_1": 0, "1_to_3": 1, "over_3": 2}
_SUNSCREEN = {"daily": 0, "sometimes": 1, "rarely": 2}
_SUN_ITEMS = ("sun_hours_per_day", "sunscreen", "recent_tan", "tanning_beds")
_FITZPATRICK = {f"type_{n}": n for n in range(1, 7)}
_ECZEMA_REASONS = {
    "active_now": "Eczema or dermatitis now",
    "in_the_past": "Eczema or dermatitis in the past",
}
_FLAG_REASONS = (
    ("sensitive_skin", "Sensitive skin"),
    ("cosmetic_reactions", "Reactions to skin-care products or cosmetics"),
    ("injection_reactions", "Earlier reaction to injections or fillers"),
    ("vitamin_k_reaction", "Skin reaction after a vitamin K injection"),
)


def trigger_profile(answers: Answers) -> TriggerProfile:
    """Weight loss, hormones, sun, lifestyle and family history, from the answers."""
    weight_loss = answers.get("weight_loss") is True
    glp1_answer = answers.get("glp1_medication")
    glp1 = weight_loss and isinstance(glp1_answer, str) and glp1_answer != "none"
    bariatric = weight_loss and answers.get("bariatric_surgery") is True
    hormonal = _codes(answers.get("hormonal_changes"))
    sun = _sun_level(answers)
    lifestyle = _lifestyle(answers)
    family_history = {"yes": True, "no": False}.get(_str(answers.get("family_history")))
    active = tuple(
        name
        for name, is_active in (
            ("weight_loss", weight_loss),
            ("hormones", bool(hormonal)),
            ("sun", sun in {"moderate", "high"}),
            ("lifestyle", bool(lifestyle)),
            ("genetics", family_history is True),
        )
        if is_active
    )
    return TriggerProfile(
        weight_loss=weight_loss,
        weight_loss_kg_per_month=_kg_per_month(answers) if weight_loss else None,
        glp1=glp1,
        bariatric=bariatric,
        hormonal=hormonal,
        sun=sun,
        lifestyle=lifestyle,
        family_history=family_history,
        active=active,
    )


def sensitivity_profile(answers: Answers) -> SensitivityProfile:
    """Fitzpatrick type and the reasons, if any, to advise a patch test."""
    reasons: list[str] = []
    for link_id, reason in _FLAG_REASONS:
        if answers.get(link_id) is True:
            reasons.append(reason)
    eczema = _ECZEMA_REASONS.get(_str(answers.get("eczema_dermatitis")))
    if eczema:
        reasons.append(eczema)
    allergies = _codes(answers.get("allergies"))
    if allergies:
        reasons.append("Allergy: " + ", ".join(allergies))
    return SensitivityProfile(
        fitzpatrick=_FITZPATRICK.get(_str(answers.get("fitzpatrick"))),
        patch_test_advised=bool(reasons),
        reasons=tuple(reasons),
    )


def _sun_level(answers: Answers) -> str | None:
    if not any(link_id in answers for link_id in _SUN_ITEMS):
        return None
    score = _SUN_HOURS.get(_str(answers.get("sun_hours_per_day")), 0)
    score += _SUNSCREEN.get(_str(answers.get("sunscreen")), 0)
    score += 1 if answers.get("recent_tan") is True else 0
    score += 2 if answers.get("tanning_beds") is True else 0
    if score >= 4:
        return "high"
    return "moderate" if score >= 2 else "low"


def _lifestyle(answers: Answers) -> tuple[str, ...]:
    found: list[str] = []
    units = _number(answers.get("alcohol_units_per_week"))
    if units is not None and units > ALCOHOL_UNITS_PER_WEEK_LIMIT:
        found.append("alcohol")
    if answers.get("smoking") == "current":
        found.append("smoking")
    found.extend(_codes(answers.get("lifestyle_triggers")))
    return tuple(found)


def _kg_per_month(answers: Answers) -> float | None:
    kg = _number(answers.get("weight_loss_kg"))
    months = _number(answers.get("weight_loss_months"))
    if kg is None or months is None or months < 1:
        return None
    rate = kg / months
    return round(rate, 2) if math.isfinite(rate) else None


def _codes(answer: Any) -> tuple[str, ...]:
    if not isinstance(answer, list):
        return ()
    return tuple(code for code in answer if isinstance(code, str) and code != "none")


def _number(answer: Any) -> float | None:
    """A finite number, or None (an API client may send anything, 10**400 included)."""
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        return None
    try:
        number = float(answer)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _str(answer: Any) -> str:
    return answer if isinstance(answer, str) else ""

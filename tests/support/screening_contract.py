"""The contract's health items (steps 1-4), as the screening tests see them.

A copy of /tmp/spec/contract.md kept beside the tests: the engine must not depend on the
questionnaire module, and the tests check the shipped rules only read these items.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

TODAY = date(2026, 11, 27)
ADULT_BIRTH_DATE = date(1988, 5, 14)
TREATMENTS = ("mesotherapy", "laser_ipl", "radiofrequency", "prp", "skincare")
INJECTABLE_OR_ENERGY = ("mesotherapy", "laser_ipl", "radiofrequency", "prp")


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    options: tuple[str, ...] = ()
    repeats: bool = False
    exclusive: str | None = None
    enable_when: tuple[str, object] | None = None  # (question, answer), operator "="
    bounds: tuple[int, int] = (0, 0)


def _choice(link_id: str, *options: str, **kwargs: Any) -> Item:
    return Item(link_id, "choice", options=options, **kwargs)


def _multi(link_id: str, *options: str, **kwargs: Any) -> Item:
    exclusive = "none" if "none" in options else None
    return Item(link_id, "choice", options, repeats=True, exclusive=exclusive, **kwargs)


def _bool(link_id: str, **kwargs: Any) -> Item:
    return Item(link_id, "boolean", **kwargs)


def _date(link_id: str, **kwargs: Any) -> Item:
    return Item(link_id, "date", **kwargs)


WEIGHT_LOSS = ("weight_loss", True)
ITEMS: tuple[Item, ...] = (
    # Step 1, concern
    _multi("concern_kind", "redness", "spider_veins", "flushing", "rosacea_diagnosed"),
    _multi("concern_areas", "nose", "cheeks", "chin", "forehead", "neck"),
    _choice(
        "concern_duration", "under_6_months", "6_to_12_months", "1_to_3_years",
        "over_3_years",
    ),
    _choice("severity", "clear", "almost_clear", "mild", "moderate", "severe"),
    _multi(
        "treatments_wanted", "mesotherapy", "laser_ipl", "radiofrequency", "prp",
        "skincare", "not_sure",
    ),
    _choice(
        "treatment_timing", "as_soon_as_possible", "within_a_month", "within_3_months",
        "just_exploring",
    ),
    # Step 2, triggers
    _bool("weight_loss"),
    Item("weight_loss_kg", "decimal", enable_when=WEIGHT_LOSS, bounds=(1, 200)),
    Item("weight_loss_months", "integer", enable_when=WEIGHT_LOSS, bounds=(1, 48)),
    _choice(
        "glp1_medication", "none", "semaglutide", "tirzepatide", "liraglutide", "other",
        enable_when=WEIGHT_LOSS,
    ),
    _bool("bariatric_surgery", enable_when=WEIGHT_LOSS),
    _multi(
        "hormonal_changes", "none", "recent_pregnancy", "menopause",
        "hormonal_contraception", "hrt", "thyroid_or_pcos",
    ),
    _choice("sun_hours_per_day", "under_1", "1_to_3", "over_3"),
    _choice("sunscreen", "daily", "sometimes", "rarely"),
    _bool("recent_tan"),
    _date("recent_tan_date", enable_when=("recent_tan", True)),
    _bool("tanning_beds"),
    Item("alcohol_units_per_week", "integer", bounds=(0, 100)),
    _choice("smoking", "never", "former", "current"),
    _multi(
        "lifestyle_triggers", "none", "heat", "spicy_food", "exercise", "hot_drinks",
        "stress", "weather",
    ),
    _choice("family_history", "yes", "no", "not_sure"),
    # Step 3, health
    _multi(
        "blood_thinners", "none", "warfarin", "acenocoumarol", "phenprocoumon",
        "apixaban", "rivaroxaban", "dabigatran", "edoxaban", "heparin", "aspirin",
        "clopidogrel", "other",
    ),
    _bool("bleeding_disorder"),
    _bool("thrombosis_history"),
    _multi(
        "allergies", "none", "vitamin_k", "hyaluronic_acid", "lidocaine",
        "benzyl_alcohol", "other",
    ),
    Item("allergy_details", "string", enable_when=("allergies", "other")),
    _choice(
        "pregnancy_status", "not_pregnant", "pregnant", "breastfeeding", "planning",
    ),
    _bool("skin_infection"),
    _bool("recurrent_cold_sores"),
    _multi(
        "immune_conditions", "none", "lupus", "other_autoimmune", "immunosuppressants",
        "transplant",
    ),
    _choice("diabetes", "no", "controlled", "uncontrolled"),
    _bool("cancer_treatment"),
    _bool("skin_cancer_history"),
    _multi(
        "other_conditions", "none", "heart_disease", "liver_disease",
        "high_blood_pressure", "thyroid_disease", "vitiligo", "numb_skin",
        "photosensitive_disease",
    ),
    _bool("isotretinoin"),
    _date("isotretinoin_last_dose", enable_when=("isotretinoin", True)),
    _bool("photosensitising_medication"),
    _multi(
        "recent_medicines", "none", "nsaid_48_hours", "systemic_steroids_2_weeks",
        "steroid_injection_1_month",
    ),
    _bool("recent_fever"),
    _bool("implanted_device"),
    _bool("facial_metal_implants"),
    _bool("keloid_scarring"),
    _bool("epilepsy"),
    Item("other_medications", "text"),
    # Step 4, skin
    _choice("fitzpatrick", *(f"type_{n}" for n in range(1, 7))),
    _bool("sensitive_skin"),
    _choice("eczema_dermatitis", "no", "in_the_past", "active_now"),
    _bool("cosmetic_reactions"),
    _bool("injection_reactions"),
    _bool("vitamin_k_reaction", enable_when=("injection_reactions", True)),
    _bool("needle_fear"),
    _multi(
        "previous_treatments", "none", "laser_ipl", "mesotherapy", "radiofrequency",
        "prp", "filler", "botulinum", "peel",
    ),
    _date("last_laser_date", enable_when=("previous_treatments", "laser_ipl")),
    _date("last_filler_date", enable_when=("previous_treatments", "filler")),
    _date("last_botulinum_date", enable_when=("previous_treatments", "botulinum")),
)  # fmt: skip
ITEMS_BY_ID = {item.link_id: item for item in ITEMS}
LINK_IDS = frozenset(ITEMS_BY_ID)
OPTIONS = {item.link_id: item.options for item in ITEMS if item.type == "choice"}


def is_enabled(item: Item, answers: dict[str, Any]) -> bool:
    """FHIR enableWhen with "=": a repeating answer matches when it holds the value."""
    if item.enable_when is None:
        return True
    question, expected = item.enable_when
    answer = answers.get(question)
    if isinstance(answer, list):
        return expected in answer
    return answer is expected if isinstance(expected, bool) else answer == expected


def hide_disabled(answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers whose enableWhen no longer holds, as the form would."""
    kept = dict(answers)
    for item in ITEMS:  # gates come before the items they enable
        if item.link_id in kept and not is_enabled(item, kept):
            del kept[item.link_id]
    return kept


def days_ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


def baseline_answers() -> dict[str, Any]:
    """Every question answered, no risk reported: every treatment is eligible."""
    return {
        "concern_kind": ["redness", "spider_veins"],
        "concern_areas": ["cheeks", "nose"],
        "concern_duration": "1_to_3_years",
        "severity": "mild",
        "treatments_wanted": ["mesotherapy", "laser_ipl"],
        "treatment_timing": "within_a_month",
        "weight_loss": False,
        "hormonal_changes": ["none"],
        "sun_hours_per_day": "under_1",
        "sunscreen": "daily",
        "recent_tan": False,
        "tanning_beds": False,
        "alcohol_units_per_week": 3,
        "smoking": "never",
        "lifestyle_triggers": ["none"],
        "family_history": "no",
        "blood_thinners": ["none"],
        "bleeding_disorder": False,
        "thrombosis_history": False,
        "allergies": ["none"],
        "pregnancy_status": "not_pregnant",
        "skin_infection": False,
        "recurrent_cold_sores": False,
        "immune_conditions": ["none"],
        "diabetes": "no",
        "cancer_treatment": False,
        "skin_cancer_history": False,
        "other_conditions": ["none"],
        "isotretinoin": False,
        "photosensitising_medication": False,
        "recent_medicines": ["none"],
        "recent_fever": False,
        "implanted_device": False,
        "facial_metal_implants": False,
        "keloid_scarring": False,
        "epilepsy": False,
        "fitzpatrick": "type_2",
        "sensitive_skin": False,
        "eczema_dermatitis": "no",
        "cosmetic_reactions": False,
        "injection_reactions": False,
        "needle_fear": False,
        "previous_treatments": ["none"],
    }


def answers_with(**overrides: Any) -> dict[str, Any]:
    """The baseline with some answers replaced; a value of None removes the answer."""
    answers = baseline_answers()
    for link_id, value in overrides.items():
        if value is None:
            answers.pop(link_id, None)
        else:
            answers[link_id] = value
    return answers

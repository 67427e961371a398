"""Every shipped rule fires on the answers it is written for, with its own class."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from intake.screening import (
    Outcome,
    RuleSet,
    evaluate,
    rule_set_load,
    shipped_rule_set_data,
)
from tests.support.screening_contract import (
    ADULT_BIRTH_DATE,
    LINK_IDS,
    OPTIONS,
    TODAY,
    TREATMENTS,
    answers_with,
    baseline_answers,
    days_ago,
)

RULE_SET = rule_set_load(shipped_rule_set_data())
MINOR_BIRTH_DATE = date(TODAY.year - 16, 1, 1)
R, D, C, E = "review", "deferred", "contraindicated", "eligible"


@dataclass(frozen=True)
class Case:
    answers: dict[str, Any]
    expected: dict[str, str]  # treatment -> outcome, for the rule's treatments
    birth_date: date = ADULT_BIRTH_DATE


def case(expected: str | dict[str, str], **overrides: Any) -> Case:
    return Case(answers_with(**overrides), _expand(expected))


def _expand(expected: str | dict[str, str]) -> dict[str, str]:
    return {"*": expected} if isinstance(expected, str) else expected


TABLE: dict[str, Case] = {
    "under_18": Case(baseline_answers(), {"*": R}, birth_date=MINOR_BIRTH_DATE),
    # Vitamin K mesotherapy
    "meso_vitamin_k_allergy": case(C, allergies=["vitamin_k"]),
    "meso_cocktail_ingredient_allergy": case(R, allergies=["lidocaine"]),
    "meso_vitamin_k_skin_reaction": case(
        C, injection_reactions=True, vitamin_k_reaction=True
    ),
    "meso_injection_reaction": case(
        R, injection_reactions=True, vitamin_k_reaction=False
    ),
    "meso_vitamin_k_antagonist": case(C, blood_thinners=["acenocoumarol"]),
    "meso_other_blood_thinner": case(R, blood_thinners=["apixaban"]),
    "meso_bleeding_disorder": case(R, bleeding_disorder=True),
    "meso_pregnancy": case(D, pregnancy_status="pregnant"),
    "meso_skin_infection": case(D, skin_infection=True),
    "meso_cancer": case(C, cancer_treatment=True),
    "meso_immune_condition": case(R, immune_conditions=["other_autoimmune"]),
    "meso_diabetes": case(R, diabetes="controlled"),
    "meso_keloid_scarring": case(R, keloid_scarring=True),
    "meso_heart_or_liver_disease": case(R, other_conditions=["liver_disease"]),
    "meso_benzyl_alcohol_allergy": case(R, allergies=["benzyl_alcohol"]),
    "meso_sensitive_skin": case(R, sensitive_skin=True),
    "meso_needle_fear": case(E, needle_fear=True),
    # Pulsed dye laser and IPL
    "laser_pregnancy": case(D, pregnancy_status="breastfeeding"),
    "laser_recent_tan": case(D, recent_tan=True, recent_tan_date=days_ago(10)),
    "laser_tanning_beds": case(D, tanning_beds=True),
    "laser_fitzpatrick_6": case(R, fitzpatrick="type_6"),
    "laser_fitzpatrick_4_5": case(R, fitzpatrick="type_5"),
    "laser_isotretinoin": case(
        R, isotretinoin=True, isotretinoin_last_dose=days_ago(90)
    ),
    "laser_photosensitising_medication": case(R, photosensitising_medication=True),
    "laser_photosensitive_disease": case(
        R, other_conditions=["photosensitive_disease"]
    ),
    "laser_skin_infection": case(D, skin_infection=True),
    "laser_recurrent_cold_sores": case(R, recurrent_cold_sores=True),
    "laser_epilepsy": case(R, epilepsy=True),
    "laser_keloid_scarring": case(R, keloid_scarring=True),
    "laser_vitiligo": case(R, other_conditions=["vitiligo"]),
    "laser_skin_cancer_history": case(R, skin_cancer_history=True),
    "laser_cancer": case(R, cancer_treatment=True),
    "laser_blood_thinner": case(R, blood_thinners=["aspirin"]),
    "laser_purpura": case(E),
    # Radiofrequency
    "rf_implanted_device": case(C, implanted_device=True),
    "rf_facial_metal_implants": case(C, facial_metal_implants=True),
    "rf_pregnancy": case(D, pregnancy_status="pregnant"),
    "rf_cancer": case(C, cancer_treatment=True),
    "rf_lupus_or_immunosuppression": case(C, immune_conditions=["immunosuppressants"]),
    "rf_other_autoimmune": case(R, immune_conditions=["other_autoimmune"]),
    "rf_numb_skin": case(C, other_conditions=["numb_skin"]),
    "rf_uncontrolled_diabetes": case(R, diabetes="uncontrolled"),
    "rf_high_blood_pressure": case(R, other_conditions=["high_blood_pressure"]),
    "rf_epilepsy": case(R, epilepsy=True),
    "rf_thyroid_disease": case(R, other_conditions=["thyroid_disease"]),
    "rf_transplant": case(R, immune_conditions=["transplant"]),
    "rf_rosacea": case(R, concern_kind=["redness", "rosacea_diagnosed"]),
    "rf_recent_botulinum": case(
        D, previous_treatments=["botulinum"], last_botulinum_date=days_ago(30)
    ),
    "rf_recent_filler": case(
        D, previous_treatments=["filler"], last_filler_date=days_ago(5)
    ),
    "rf_recent_laser": case(
        D, previous_treatments=["laser_ipl"], last_laser_date=days_ago(13)
    ),
    "rf_skin_infection": case(D, skin_infection=True),
    "rf_recent_tan": case(D, recent_tan=True, recent_tan_date=days_ago(27)),
    # Platelet-rich plasma
    "prp_bleeding_disorder": case(R, bleeding_disorder=True),
    "prp_skin_infection": case(C, skin_infection=True),
    "prp_blood_thinner": case(R, blood_thinners=["clopidogrel"]),
    "prp_recent_nsaid": case(D, recent_medicines=["nsaid_48_hours"]),
    "prp_systemic_steroids": case(D, recent_medicines=["systemic_steroids_2_weeks"]),
    "prp_steroid_injection": case(D, recent_medicines=["steroid_injection_1_month"]),
    "prp_recent_fever": case(D, recent_fever=True),
    "prp_cancer": case(R, cancer_treatment=True),
    "prp_smoking": case(R, smoking="current"),
    "prp_pregnancy": case(D, pregnancy_status="breastfeeding"),
    # Medical-grade skincare
    "skincare_allergy": case(R, allergies=["other"], allergy_details="nickel"),
    "skincare_cosmetic_reactions": case(R, cosmetic_reactions=True),
    "skincare_active_dermatitis": case(R, eczema_dermatitis="active_now"),
}


def test_every_shipped_rule_has_a_row_in_the_table() -> None:
    shipped = [rule.id for rule in RULE_SET.rules]

    assert sorted(set(shipped) - set(TABLE)) == [], "add a row to TABLE for new rules"
    assert sorted(set(TABLE) - set(shipped)) == [], "TABLE names a rule not shipped"


def test_baseline_answers_are_eligible_for_every_treatment() -> None:
    result = evaluate(
        baseline_answers(), RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE
    )

    assert result.outcomes() == dict.fromkeys(TREATMENTS, "eligible")
    fired = {r.rule_id for t in result.treatments.values() for r in t.fired}
    assert fired == {"laser_purpura"}  # an info rule that always applies


@pytest.mark.parametrize("rule_id", list(TABLE), ids=list(TABLE))
def test_rule_fires_with_its_class_and_reason_for_its_treatments(rule_id: str) -> None:
    rule = next(rule for rule in RULE_SET.rules if rule.id == rule_id)
    row = TABLE[rule_id]

    result = evaluate(row.answers, RULE_SET, today=TODAY, birth_date=row.birth_date)

    for treatment in rule.treatments:
        outcome = result.treatments[treatment]
        expected = row.expected.get(treatment, row.expected.get("*"))
        assert outcome.outcome == expected, treatment
        fired = next(f for f in outcome.fired if f.rule_id == rule_id)
        assert fired.outcome == rule.outcome
        assert fired.reason == rule.reason
        assert fired.missing == ()
        assert rule.reason in [f.reason for f in outcome.fired]


def test_an_active_skin_infection_defers_every_treatment_of_the_area_until_healed() -> (
    None
):
    result = evaluate(
        answers_with(skin_infection=True),
        RULE_SET,
        today=TODAY,
        birth_date=ADULT_BIRTH_DATE,
    )

    assert result.outcomes() == {
        "mesotherapy": D,
        "laser_ipl": D,
        "radiofrequency": D,
        "prp": C,
        "skincare": "eligible",
    }


@pytest.mark.parametrize(
    ("answers", "decides"),
    [
        ({"blood_thinners": ["warfarin"]}, True),
        ({"cancer_treatment": True}, True),
        # A hard contraindication beside it ends the conversation.
        ({"blood_thinners": ["warfarin"], "allergies": ["vitamin_k"]}, False),
        ({"allergies": ["vitamin_k"]}, False),
    ],
)
def test_a_refusal_that_a_physician_may_lift_is_marked_for_the_physician(
    answers: dict[str, Any], decides: bool
) -> None:
    result = evaluate(
        answers_with(**answers), RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE
    )

    mesotherapy = result.treatments["mesotherapy"]
    assert mesotherapy.outcome == C
    assert mesotherapy.physician_decides is decides
    assert ("mesotherapy" in result.physician_decides()) is decides


def test_shipped_rules_read_only_contract_items_and_options() -> None:
    rule_set = rule_set_load(
        shipped_rule_set_data(), known_link_ids=LINK_IDS, known_options=OPTIONS
    )

    assert isinstance(rule_set, RuleSet)
    assert set(rule_set.treatments) == set(TREATMENTS)


def test_every_shipped_rule_cites_a_source_and_speaks_both_languages() -> None:
    for raw in shipped_rule_set_data()["rules"]:
        assert str(raw.get("source", "")).strip(), raw["id"]
        assert raw["patient"]["en"].strip(), raw["id"]
        assert raw["patient"]["tr"].strip(), raw["id"]


def test_every_shipped_deferral_says_until_when() -> None:
    deferred = [rule for rule in RULE_SET.rules if rule.outcome == Outcome.DEFERRED]

    assert deferred
    for rule in deferred:
        assert rule.until is not None, rule.id
        assert rule.until.en, rule.id
        assert rule.until.tr, rule.id


def test_patient_texts_never_diagnose_or_promise_results() -> None:
    texts = [RULE_SET.unanswered] + [rule.patient for rule in RULE_SET.rules]
    for text in texts:
        english = text.en.lower()
        for phrase in ("you have ", "you suffer", "cure", "guarantee", "diagnos"):
            assert phrase not in english, text.en
        assert "tedavi eder" not in text.tr.lower(), text.tr

"""Outcomes a patient or coordinator would notice: the cases in the issue, and more."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from core.dates import months_after
from intake.screening import (
    Outcome,
    ScreeningResult,
    age_on,
    evaluate,
    rule_set_load,
    shipped_rule_set_data,
)
from intake.screening.conditions import months_before
from tests.support.screening_contract import (
    ADULT_BIRTH_DATE,
    INJECTABLE_OR_ENERGY,
    TODAY,
    answers_with,
    days_ago,
)

RULE_SET = rule_set_load(shipped_rule_set_data())


def screen(
    birth_date: date | None = ADULT_BIRTH_DATE, **overrides: object
) -> ScreeningResult:
    return evaluate(
        answers_with(**overrides), RULE_SET, today=TODAY, birth_date=birth_date
    )


def fired_ids(result: ScreeningResult, treatment: str) -> list[str]:
    return [rule.rule_id for rule in result.treatments[treatment].fired]


def test_warfarin_blocks_self_booking_for_mesotherapy() -> None:
    result = screen(blood_thinners=["warfarin"])

    mesotherapy = result.treatments["mesotherapy"]
    assert mesotherapy.outcome == Outcome.CONTRAINDICATED
    (fired,) = [r for r in mesotherapy.fired if r.outcome == Outcome.CONTRAINDICATED]
    assert "warfarin" in fired.reason
    assert fired.evidence == (("blood_thinners", ("warfarin",)),)


def test_pacemaker_rules_out_radiofrequency_and_leaves_mesotherapy_bookable() -> None:
    result = screen(implanted_device=True)

    assert result.treatments["radiofrequency"].outcome == Outcome.CONTRAINDICATED
    assert fired_ids(result, "radiofrequency") == ["rf_implanted_device"]
    assert result.treatments["mesotherapy"].outcome == Outcome.ELIGIBLE
    assert result.treatments["mesotherapy"].fired == ()


def test_pregnancy_defers_every_injectable_and_energy_treatment() -> None:
    result = screen(pregnancy_status="pregnant")

    for treatment in INJECTABLE_OR_ENERGY:
        outcome = result.treatments[treatment]
        assert outcome.outcome == Outcome.DEFERRED, treatment
        assert outcome.reconsider_on is None  # until a condition passes, not a date
        (deferral,) = [r for r in outcome.fired if r.outcome == Outcome.DEFERRED]
        assert deferral.until is not None
        assert deferral.until.en == "after pregnancy and breastfeeding"
    assert result.treatments["skincare"].outcome == Outcome.ELIGIBLE


def test_isotretinoin_three_months_ago_needs_a_physician_before_laser() -> None:
    last_dose = months_before(TODAY, 3).isoformat()

    result = screen(isotretinoin=True, isotretinoin_last_dose=last_dose)

    assert result.treatments["laser_ipl"].outcome == Outcome.REVIEW
    assert "laser_isotretinoin" in fired_ids(result, "laser_ipl")


@pytest.mark.parametrize(
    ("months", "days", "expected"),
    [(6, 0, Outcome.REVIEW), (6, 1, Outcome.ELIGIBLE), (8, 0, Outcome.ELIGIBLE)],
    ids=["exactly_6_months", "6_months_and_a_day", "8_months"],
)
def test_isotretinoin_counts_for_laser_for_six_months_inclusive(
    months: int, days: int, expected: Outcome
) -> None:
    last_dose = (months_before(TODAY, months) - timedelta(days=days)).isoformat()

    result = screen(isotretinoin=True, isotretinoin_last_dose=last_dose)

    assert result.treatments["laser_ipl"].outcome == expected


def test_tan_two_weeks_ago_defers_laser_until_four_weeks_after_the_tan() -> None:
    tan_date = TODAY - timedelta(weeks=2)

    result = screen(recent_tan=True, recent_tan_date=tan_date.isoformat())

    laser = result.treatments["laser_ipl"]
    assert laser.outcome == Outcome.DEFERRED
    assert laser.reconsider_on == tan_date + timedelta(days=28)
    (deferral,) = [r for r in laser.fired if r.rule_id == "laser_recent_tan"]
    assert deferral.evidence == (
        ("recent_tan", True),
        ("recent_tan_date", tan_date.isoformat()),
    )


def test_tan_five_weeks_ago_no_longer_defers_laser() -> None:
    result = screen(recent_tan=True, recent_tan_date=days_ago(35))

    assert result.treatments["laser_ipl"].outcome == Outcome.ELIGIBLE


def test_tan_without_a_date_needs_a_physician_instead_of_self_booking() -> None:
    result = screen(recent_tan=True)

    laser = result.treatments["laser_ipl"]
    assert laser.outcome == Outcome.REVIEW
    (unknown,) = [r for r in laser.fired if r.rule_id == "laser_recent_tan"]
    assert unknown.outcome == Outcome.REVIEW
    assert unknown.missing == ("recent_tan_date",)
    assert unknown.reason.startswith("Not answered: recent_tan_date")
    assert unknown.evidence == (("recent_tan", True),)
    assert unknown.patient == RULE_SET.unanswered
    assert unknown.until is None


def test_unanswered_blood_thinner_question_sends_mesotherapy_to_review() -> None:
    result = screen(blood_thinners=None)

    mesotherapy = result.treatments["mesotherapy"]
    assert mesotherapy.outcome == Outcome.REVIEW
    assert {r.rule_id for r in mesotherapy.fired} == {
        "meso_vitamin_k_antagonist",
        "meso_other_blood_thinner",
    }
    assert all(r.missing == ("blood_thinners",) for r in mesotherapy.fired)


def test_unanswered_question_read_only_by_an_info_rule_changes_nothing() -> None:
    result = screen(needle_fear=None)

    assert result.treatments["mesotherapy"].outcome == Outcome.ELIGIBLE
    assert result.treatments["mesotherapy"].fired == ()


def test_needle_fear_is_shown_to_staff_without_blocking_booking() -> None:
    result = screen(needle_fear=True)

    mesotherapy = result.treatments["mesotherapy"]
    assert mesotherapy.outcome == Outcome.ELIGIBLE
    assert [r.outcome for r in mesotherapy.fired] == [Outcome.INFO]


def test_without_a_birth_date_injectables_need_review_and_skincare_stays_open() -> None:
    result = screen(birth_date=None)

    for treatment in INJECTABLE_OR_ENERGY:
        assert result.treatments[treatment].outcome == Outcome.REVIEW, treatment
    assert result.treatments["skincare"].outcome == Outcome.ELIGIBLE
    (unknown,) = result.treatments["prp"].fired
    assert unknown.missing == ("age",)


def test_eighteenth_birthday_today_is_an_adult() -> None:
    birth_date = date(TODAY.year - 18, TODAY.month, TODAY.day)

    result = screen(birth_date=birth_date)

    assert result.treatments["prp"].outcome == Outcome.ELIGIBLE


def test_the_day_before_the_eighteenth_birthday_is_a_minor() -> None:
    birth_date = date(TODAY.year - 18, TODAY.month, TODAY.day) + timedelta(days=1)

    result = screen(birth_date=birth_date)

    assert result.treatments["prp"].outcome == Outcome.REVIEW
    (minor,) = result.treatments["prp"].fired
    assert minor.evidence == (("age", 17),)


def test_an_age_answer_cannot_override_the_birth_date() -> None:
    result = screen(birth_date=date(TODAY.year - 16, 1, 1), age=40)

    assert result.treatments["prp"].outcome == Outcome.REVIEW


def test_leap_day_birthday_counts_from_the_first_of_march() -> None:
    born = date(2008, 2, 29)

    assert age_on(born, date(2026, 2, 28)) == 17
    assert age_on(born, date(2026, 3, 1)) == 18


def test_two_dated_deferrals_reconsider_at_the_later_date() -> None:
    result = screen(
        recent_tan=True,
        recent_tan_date=days_ago(20),
        previous_treatments=["botulinum"],
        last_botulinum_date=days_ago(10),
    )

    radiofrequency = result.treatments["radiofrequency"]
    assert radiofrequency.outcome == Outcome.DEFERRED
    botulinum_ends = months_after(TODAY - timedelta(days=10), 3)
    assert radiofrequency.reconsider_on == botulinum_ends


def test_an_undated_deferral_leaves_the_reconsider_date_open() -> None:
    result = screen(
        recent_tan=True, recent_tan_date=days_ago(20), pregnancy_status="pregnant"
    )

    assert result.treatments["laser_ipl"].outcome == Outcome.DEFERRED
    assert result.treatments["laser_ipl"].reconsider_on is None


def test_contraindication_outranks_deferral_and_review() -> None:
    result = screen(
        pregnancy_status="pregnant", fitzpatrick="type_5", implanted_device=True
    )

    assert result.treatments["radiofrequency"].outcome == Outcome.CONTRAINDICATED
    assert result.treatments["radiofrequency"].reconsider_on is None
    assert result.treatments["laser_ipl"].outcome == Outcome.DEFERRED


def test_an_unreadable_date_answer_needs_review_rather_than_failing() -> None:
    result = screen(recent_tan=True, recent_tan_date="last summer")

    assert result.treatments["laser_ipl"].outcome == Outcome.REVIEW


def test_evaluation_leaves_the_answers_untouched() -> None:
    answers = answers_with(blood_thinners=["warfarin"], age=3)
    before = copy.deepcopy(answers)

    evaluate(answers, RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE)

    assert answers == before


def test_profiles_describe_triggers_and_sensitivity() -> None:
    result = screen(
        weight_loss=True,
        weight_loss_kg=12,
        weight_loss_months=4,
        glp1_medication="semaglutide",
        bariatric_surgery=False,
        hormonal_changes=["menopause"],
        sun_hours_per_day="over_3",
        sunscreen="rarely",
        alcohol_units_per_week=20,
        smoking="current",
        lifestyle_triggers=["heat", "stress"],
        family_history="yes",
        fitzpatrick="type_3",
        sensitive_skin=True,
        allergies=["benzyl_alcohol"],
    )

    triggers = result.triggers
    assert triggers.weight_loss_kg_per_month == 3.0
    assert triggers.glp1 is True
    assert triggers.bariatric is False
    assert triggers.hormonal == ("menopause",)
    assert triggers.sun == "high"
    assert triggers.lifestyle == ("alcohol", "smoking", "heat", "stress")
    assert triggers.family_history is True
    assert triggers.active == (
        "weight_loss",
        "hormones",
        "sun",
        "lifestyle",
        "genetics",
    )
    sensitivity = result.sensitivity
    assert sensitivity.fitzpatrick == 3
    assert sensitivity.patch_test_advised is True
    assert sensitivity.reasons == ("Sensitive skin", "Allergy: benzyl_alcohol")


def test_low_risk_answers_give_quiet_profiles() -> None:
    result = screen()

    assert result.triggers.active == ()
    assert result.triggers.sun == "low"
    assert result.triggers.family_history is False
    assert result.sensitivity.patch_test_advised is False
    assert result.sensitivity.fitzpatrick == 2


@pytest.mark.parametrize("empty", [None, [], ""], ids=["null", "empty_list", "empty"])
def test_a_null_or_empty_answer_counts_as_unanswered(empty: object) -> None:
    answers = answers_with()
    answers["blood_thinners"] = empty

    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE)

    assert result.treatments["mesotherapy"].outcome == Outcome.REVIEW
    assert all(r.missing == ("blood_thinners",) for r in result.treatments["prp"].fired)


@pytest.mark.parametrize(
    ("link_id", "value", "treatment"),
    [
        ("implanted_device", "true", "radiofrequency"),
        ("pregnancy_status", ["pregnant"], "prp"),
        ("fitzpatrick", 6, "laser_ipl"),
        ("blood_thinners", [1], "prp"),
    ],
    ids=["text_for_boolean", "list_for_choice", "number_for_code", "number_in_list"],
)
def test_a_wrongly_typed_answer_needs_review_rather_than_reading_as_no(
    link_id: str, value: object, treatment: str
) -> None:
    answers = answers_with(**{link_id: value})

    result = evaluate(answers, RULE_SET, today=TODAY, birth_date=ADULT_BIRTH_DATE)

    assert result.treatments[treatment].outcome == Outcome.REVIEW


def test_a_dated_deferral_alone_makes_the_treatment_bookable_from_its_date() -> None:
    tan_date = TODAY - timedelta(weeks=2)

    result = screen(recent_tan=True, recent_tan_date=tan_date.isoformat())

    assert result.treatments["laser_ipl"].bookable_from == tan_date + timedelta(days=28)
    assert result.treatments["mesotherapy"].bookable_from is None  # not deferred


def test_a_review_under_a_dated_deferral_still_needs_a_physician_after_the_date() -> (
    None
):
    result = screen(recent_tan=True, recent_tan_date=days_ago(14), fitzpatrick="type_6")

    laser = result.treatments["laser_ipl"]
    assert laser.outcome == Outcome.DEFERRED
    assert laser.reconsider_on is not None
    assert laser.bookable_from is None

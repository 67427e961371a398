"""The shipped questionnaire definition, its validator and enableWhen pruning."""

import copy
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from intake.questionnaires.definition import (
    SHIPPED_DIR,
    Definition,
    DefinitionInvalid,
    Item,
    Text,
    answers_prune,
    definition_load,
    definition_load_shipped,
    item_is_enabled,
)

# The contract's items: linkId -> (type, repeats, required, option codes).
CONTRACT: dict[str, tuple[str, bool, bool, tuple[str, ...]]] = {
    "concern_kind": (
        "choice",
        True,
        True,
        ("redness", "spider_veins", "flushing", "rosacea_diagnosed"),
    ),
    "concern_areas": (
        "choice",
        True,
        True,
        ("nose", "cheeks", "chin", "forehead", "neck"),
    ),
    "concern_duration": (
        "choice",
        False,
        True,
        ("under_6_months", "6_to_12_months", "1_to_3_years", "over_3_years"),
    ),
    "severity": (
        "choice",
        False,
        True,
        ("clear", "almost_clear", "mild", "moderate", "severe"),
    ),
    "treatments_wanted": (
        "choice",
        True,
        True,
        ("mesotherapy", "laser_ipl", "radiofrequency", "prp", "skincare", "not_sure"),
    ),
    "treatment_timing": (
        "choice",
        False,
        True,
        ("as_soon_as_possible", "within_a_month", "within_3_months", "just_exploring"),
    ),
    "weight_loss": ("boolean", False, True, ()),
    "weight_loss_kg": ("decimal", False, True, ()),
    "weight_loss_months": ("integer", False, True, ()),
    "glp1_medication": (
        "choice",
        False,
        True,
        ("none", "semaglutide", "tirzepatide", "liraglutide", "other"),
    ),
    "bariatric_surgery": ("boolean", False, True, ()),
    "hormonal_changes": (
        "choice",
        True,
        True,
        (
            "none",
            "recent_pregnancy",
            "menopause",
            "hormonal_contraception",
            "hrt",
            "thyroid_or_pcos",
        ),
    ),
    "sun_hours_per_day": ("choice", False, True, ("under_1", "1_to_3", "over_3")),
    "sunscreen": ("choice", False, True, ("daily", "sometimes", "rarely")),
    "recent_tan": ("boolean", False, True, ()),
    "recent_tan_date": ("date", False, True, ()),
    "tanning_beds": ("boolean", False, True, ()),
    "alcohol_units_per_week": ("integer", False, True, ()),
    "smoking": ("choice", False, True, ("never", "former", "current")),
    "lifestyle_triggers": (
        "choice",
        True,
        True,
        (
            "none",
            "heat",
            "spicy_food",
            "exercise",
            "hot_drinks",
            "stress",
            "weather",
        ),
    ),
    "family_history": ("choice", False, True, ("yes", "no", "not_sure")),
    "blood_thinners": (
        "choice",
        True,
        True,
        (
            "none",
            "warfarin",
            "acenocoumarol",
            "phenprocoumon",
            "apixaban",
            "rivaroxaban",
            "dabigatran",
            "edoxaban",
            "heparin",
            "aspirin",
            "clopidogrel",
            "other",
        ),
    ),
    "bleeding_disorder": ("boolean", False, True, ()),
    "thrombosis_history": ("boolean", False, True, ()),
    "allergies": (
        "choice",
        True,
        True,
        (
            "none",
            "vitamin_k",
            "hyaluronic_acid",
            "lidocaine",
            "benzyl_alcohol",
            "other",
        ),
    ),
    "allergy_details": ("string", False, True, ()),
    "pregnancy_status": (
        "choice",
        False,
        True,
        ("not_pregnant", "pregnant", "breastfeeding", "planning"),
    ),
    "skin_infection": ("boolean", False, True, ()),
    "recurrent_cold_sores": ("boolean", False, True, ()),
    "immune_conditions": (
        "choice",
        True,
        True,
        ("none", "lupus", "other_autoimmune", "immunosuppressants", "transplant"),
    ),
    "diabetes": ("choice", False, True, ("no", "controlled", "uncontrolled")),
    "cancer_treatment": ("boolean", False, True, ()),
    "skin_cancer_history": ("boolean", False, True, ()),
    "other_conditions": (
        "choice",
        True,
        True,
        (
            "none",
            "heart_disease",
            "liver_disease",
            "high_blood_pressure",
            "thyroid_disease",
            "vitiligo",
            "numb_skin",
            "photosensitive_disease",
        ),
    ),
    "isotretinoin": ("boolean", False, True, ()),
    "isotretinoin_last_dose": ("date", False, True, ()),
    "photosensitising_medication": ("boolean", False, True, ()),
    "recent_medicines": (
        "choice",
        True,
        True,
        (
            "none",
            "nsaid_48_hours",
            "systemic_steroids_2_weeks",
            "steroid_injection_1_month",
        ),
    ),
    "recent_fever": ("boolean", False, True, ()),
    "implanted_device": ("boolean", False, True, ()),
    "facial_metal_implants": ("boolean", False, True, ()),
    "keloid_scarring": ("boolean", False, True, ()),
    "epilepsy": ("boolean", False, True, ()),
    "other_medications": ("text", False, False, ()),
    "fitzpatrick": (
        "choice",
        False,
        True,
        ("type_1", "type_2", "type_3", "type_4", "type_5", "type_6"),
    ),
    "sensitive_skin": ("boolean", False, True, ()),
    "eczema_dermatitis": ("choice", False, True, ("no", "in_the_past", "active_now")),
    "cosmetic_reactions": ("boolean", False, True, ()),
    "injection_reactions": ("boolean", False, True, ()),
    "vitamin_k_reaction": ("boolean", False, True, ()),
    "needle_fear": ("boolean", False, True, ()),
    "previous_treatments": (
        "choice",
        True,
        True,
        (
            "none",
            "laser_ipl",
            "mesotherapy",
            "radiofrequency",
            "prp",
            "filler",
            "botulinum",
            "peel",
        ),
    ),
    "last_laser_date": ("date", False, True, ()),
    "last_filler_date": ("date", False, True, ()),
    "last_botulinum_date": ("date", False, True, ()),
    "full_name": ("string", False, True, ()),
    "birth_date": ("date", False, True, ()),
    "email": ("string", False, True, ()),
    "phone": ("string", False, True, ()),
    "preferred_language": ("choice", False, True, ("en", "tr")),
    "location": ("choice", False, True, ()),
    "contact_channel": ("choice", False, True, ("phone", "whatsapp", "email")),
    "contact_times": ("choice", True, True, ("morning", "afternoon", "evening")),
    "photos": ("attachment", True, False, ()),
    "consent_health": ("boolean", False, True, ()),
    "consent_marketing": ("boolean", False, False, ()),
}

# linkId -> (gate question, answer that shows it).
CONTRACT_GATES: dict[str, tuple[str, object]] = {
    "weight_loss_kg": ("weight_loss", True),
    "weight_loss_months": ("weight_loss", True),
    "glp1_medication": ("weight_loss", True),
    "bariatric_surgery": ("weight_loss", True),
    "recent_tan_date": ("recent_tan", True),
    "allergy_details": ("allergies", "other"),
    "isotretinoin_last_dose": ("isotretinoin", True),
    "vitamin_k_reaction": ("injection_reactions", True),
    "last_laser_date": ("previous_treatments", "laser_ipl"),
    "last_filler_date": ("previous_treatments", "filler"),
    "last_botulinum_date": ("previous_treatments", "botulinum"),
}


@pytest.fixture(scope="module")
def shipped() -> Definition:
    return definition_load_shipped("redness-intake")


def _texts(definition: Definition) -> Iterator[tuple[str, Text, bool]]:
    """(where, text, is_question_text) for every text in the definition."""
    yield "title", definition.title, False
    yield "description", definition.description, False
    yield "privacyNotice", definition.privacy_notice, False

    def walk(items: tuple[Item, ...]) -> Iterator[tuple[str, Text, bool]]:
        for item in items:
            yield item.link_id, item.text, item.is_question
            if item.help is not None:
                yield f"{item.link_id} help", item.help, False
            for option in item.options:
                yield f"{item.link_id}={option.code}", option.display, False
            yield from walk(item.items)

    yield from walk(definition.steps)


def test_shipped_definition_has_the_eight_steps_in_order(shipped: Definition) -> None:
    assert [step.link_id for step in shipped.steps] == [
        "concern",
        "triggers",
        "sun_lifestyle",
        "health",
        "health_conditions",
        "health_medicines",
        "skin",
        "about",
    ]
    assert [step.text.en for step in shipped.steps] == [
        "Your concern",
        "What may trigger it",
        "Sun and daily life",
        "Your health",
        "Health conditions",
        "Medicines and recent health",
        "Your skin",
        "About you",
    ]
    assert shipped.privacy_notice_version == "2026-11-01"


def test_shipped_definition_has_exactly_the_contract_items(
    shipped: Definition,
) -> None:
    questions = {item.link_id: item for item in shipped.items() if item.is_question}
    assert set(questions) == set(CONTRACT)
    for link_id, (kind, repeats, required, codes) in CONTRACT.items():
        item = questions[link_id]
        assert (item.type, item.repeats, item.required) == (kind, repeats, required), (
            link_id
        )
        assert tuple(o.code for o in item.options) == codes, link_id


def test_shipped_gates_match_the_contract(shipped: Definition) -> None:
    gated = {
        item.link_id: [(c.question, c.operator, c.answer) for c in item.enable_when]
        for item in shipped.items()
        if item.enable_when
    }
    assert gated == {
        link_id: [(question, "=", answer)]
        for link_id, (question, answer) in CONTRACT_GATES.items()
    }


def test_none_options_are_exclusive_only_on_multi_select(shipped: Definition) -> None:
    for item in shipped.items():
        for option in item.options:
            expected = item.repeats and option.code == "none"
            assert option.exclusive is expected, f"{item.link_id}={option.code}"


def test_every_text_has_english_and_turkish(shipped: Definition) -> None:
    for where, text, is_question in _texts(shipped):
        assert text.en.strip(), where
        assert text.tr.strip(), where
        if is_question:
            assert text.tr != text.en, f"{where}: Turkish is a copy of English"


def test_turkish_text_uses_turkish_letters(shipped: Definition) -> None:
    turkish = " ".join(text.tr for _, text, _ in _texts(shipped))
    for letter in "ışğüöçİ":
        assert letter in turkish, letter


def test_about_step_items_read_as_the_brief_asks(shipped: Definition) -> None:
    location = shipped.item("location")
    assert location.value_set == "locations"
    assert location.options == ()
    photos = shipped.item("photos")
    assert photos.max_attachments == 3
    assert photos.help is not None
    # The help names exactly the kinds of photo the upload accepts.
    for kind in ("JPEG", "PNG", "WebP"):
        assert kind in photos.help.en
        assert kind in photos.help.tr
    assert "HEIC" not in photos.help.en
    assert "only clinic staff" in photos.help.en
    birth_date = shipped.item("birth_date")
    assert birth_date.help is not None
    assert "under 18" in birth_date.help.en
    # Asked first, before any health question.
    assert shipped.steps[0].items[0] is birth_date
    consent = shipped.item("consent_health").text.en
    assert "consent" in consent
    assert "health answers" in consent
    assert "which treatments are suitable" in consent
    assert shipped.item("consent_marketing").text.en.startswith("Optional")


def test_health_step_opens_with_a_privacy_line(shipped: Definition) -> None:
    first = shipped.item("health").items[0]
    assert first.type == "display"
    assert "private" in first.text.en


def test_privacy_notice_says_what_is_stored_who_sees_it_and_its_limits(
    shipped: Definition,
) -> None:
    notice = shipped.privacy_notice.en
    for phrase in ("encrypted", "clinic staff", "withdraw", "not diagnose"):
        assert phrase in notice, phrase
    assert "physician confirms" in notice


def test_glp1_and_isotretinoin_help_names_the_brands(shipped: Definition) -> None:
    glp1 = shipped.item("glp1_medication").help
    isotretinoin = shipped.item("isotretinoin").help
    alcohol = shipped.item("alcohol_units_per_week").help
    assert glp1 is not None
    assert isotretinoin is not None
    assert alcohol is not None
    assert "Ozempic" in glp1.en
    assert "Mounjaro" in glp1.tr
    assert "Roaccutane" in isotretinoin.en
    assert "1.5 units" in alcohol.en


def test_definition_lookup_and_items_in_document_order(shipped: Definition) -> None:
    link_ids = [item.link_id for item in shipped.items()]
    assert link_ids[0] == "birth_date"
    assert link_ids[-1] == "consent_marketing"
    assert "health_intro" in link_ids
    assert "health" not in link_ids
    assert shipped.item("health").type == "group"
    with pytest.raises(KeyError):
        shipped.item("nope")


# Invalid definitions ------------------------------------------------------------

T = {"en": "Text", "tr": "Metin"}


def _minimal() -> dict[str, Any]:
    """gate -> amount -> detail: each shown only when the one before allows it."""
    return {
        "slug": "mini",
        "title": T,
        "description": T,
        "privacyNoticeVersion": "1",
        "privacyNotice": T,
        "item": [
            {
                "linkId": "step",
                "type": "group",
                "text": T,
                "item": [
                    {"linkId": "gate", "type": "boolean", "text": T},
                    {
                        "linkId": "amount",
                        "type": "integer",
                        "text": T,
                        "enableWhen": [
                            {"question": "gate", "operator": "=", "answer": True}
                        ],
                    },
                    {
                        "linkId": "detail",
                        "type": "string",
                        "text": T,
                        "enableWhen": [
                            {"question": "amount", "operator": ">", "answer": 3}
                        ],
                    },
                ],
            }
        ],
    }


def _questions(data: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data["item"][0]["item"]
    return items


def _duplicate(data: dict[str, Any]) -> None:
    _questions(data)[2]["linkId"] = "amount"


def _later_question(data: dict[str, Any]) -> None:
    _questions(data)[1]["enableWhen"][0]["question"] = "detail"


def _unknown_question(data: dict[str, Any]) -> None:
    _questions(data)[1]["enableWhen"][0]["question"] = "ghost"


def _missing_turkish(data: dict[str, Any]) -> None:
    _questions(data)[0]["text"] = {"en": "Gate?"}


def _answer_of_wrong_type(data: dict[str, Any]) -> None:
    _questions(data)[1]["enableWhen"][0]["answer"] = "yes"


def _exclusive_without_repeats(data: dict[str, Any]) -> None:
    _questions(data)[0].update(
        type="choice",
        answerOption=[{"code": "none", "display": T, "exclusive": True}],
    )


def _choice_without_options(data: dict[str, Any]) -> None:
    _questions(data)[0]["type"] = "choice"


def _unquoted_yes_code(data: dict[str, Any]) -> None:
    _questions(data)[0].update(
        type="choice", answerOption=[{"code": True, "display": T}]
    )


def _unknown_type(data: dict[str, Any]) -> None:
    _questions(data)[0]["type"] = "yesno"


def _bad_link_id(data: dict[str, Any]) -> None:
    _questions(data)[0]["linkId"] = "Gate-1"


def _question_at_top_level(data: dict[str, Any]) -> None:
    data["item"].append({"linkId": "loose", "type": "boolean", "text": T})


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_duplicate, "amount: duplicate linkId"),
        (_later_question, "amount: enableWhen question 'detail' is not an earlier"),
        (_unknown_question, "amount: enableWhen question 'ghost' is not an earlier"),
        (_missing_turkish, "gate: text has no tr text"),
        (_answer_of_wrong_type, "amount: enableWhen on 'gate': answer must be true"),
        (_exclusive_without_repeats, "gate: option 'none' is exclusive"),
        (_choice_without_options, "gate: a choice needs exactly one of answerOption"),
        (_unquoted_yes_code, "gate: option code True must match"),
        (_unknown_type, "gate: unknown type 'yesno'"),
        (_bad_link_id, "linkId 'Gate-1' must match"),
        (_question_at_top_level, "loose: top-level items must be groups"),
    ],
)
def test_invalid_definition_is_rejected_naming_the_item(
    mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    data = _minimal()
    mutate(data)
    with pytest.raises(DefinitionInvalid) as caught:
        definition_load(data)
    assert any(expected in message for message in caught.value.messages), (
        caught.value.messages
    )


def test_validator_reports_every_problem_at_once() -> None:
    data = _minimal()
    _duplicate(data)
    _missing_turkish(data)
    with pytest.raises(DefinitionInvalid) as caught:
        definition_load(data)
    assert len(caught.value.messages) >= 2


def test_shipped_yaml_with_a_broken_item_is_rejected() -> None:
    data = yaml.safe_load((SHIPPED_DIR / "redness-intake.yaml").read_text("utf-8"))
    broken = copy.deepcopy(data)
    health = next(step for step in broken["item"] if step["linkId"] == "health")
    allergies = next(i for i in health["item"] if i["linkId"] == "allergies")
    allergies["text"] = {"en": "Allergies?"}
    with pytest.raises(DefinitionInvalid) as caught:
        definition_load(broken)
    assert caught.value.messages == ["allergies: text has no tr text"]


# enableWhen and pruning ---------------------------------------------------------


def test_weight_loss_yes_shows_the_amount_question(shipped: Definition) -> None:
    kg = shipped.item("weight_loss_kg")
    assert item_is_enabled(kg, {"weight_loss": True})
    assert not item_is_enabled(kg, {"weight_loss": False})
    assert not item_is_enabled(kg, {})


def test_weight_loss_no_prunes_the_follow_up_answers(shipped: Definition) -> None:
    answers = {
        "weight_loss": False,
        "weight_loss_kg": 12.5,
        "weight_loss_months": 6,
        "glp1_medication": "semaglutide",
        "bariatric_surgery": False,
        "smoking": "never",
    }
    assert answers_prune(shipped, answers) == {
        "weight_loss": False,
        "smoking": "never",
    }
    answers["weight_loss"] = True
    assert answers_prune(shipped, answers) == answers


def test_allergies_including_other_shows_the_details_question(
    shipped: Definition,
) -> None:
    details = shipped.item("allergy_details")
    assert item_is_enabled(details, {"allergies": ["lidocaine", "other"]})
    assert not item_is_enabled(details, {"allergies": ["lidocaine"]})
    assert not item_is_enabled(details, {"allergies": ["none"]})
    pruned = answers_prune(
        shipped, {"allergies": ["none"], "allergy_details": "penicillin"}
    )
    assert pruned == {"allergies": ["none"]}


def test_hidden_gate_hides_its_dependants_until_stable() -> None:
    definition = definition_load(_minimal())
    answers = {"gate": False, "amount": 5, "detail": "why"}
    assert answers_prune(definition, answers) == {"gate": False}
    assert answers_prune(definition, {**answers, "gate": True}) == {
        "gate": True,
        "amount": 5,
        "detail": "why",
    }
    assert answers_prune(definition, {"gate": True, "amount": 3, "detail": "x"}) == {
        "gate": True,
        "amount": 3,
    }


def test_prune_keeps_keys_outside_the_definition() -> None:
    definition = definition_load(_minimal())
    assert answers_prune(definition, {"gate": False, "other": 1}) == {
        "gate": False,
        "other": 1,
    }


def _gated(operator: str, answer: object, behavior: str = "all") -> Item:
    data = _minimal()
    condition = {"question": "amount", "operator": operator, "answer": answer}
    _questions(data)[2]["enableWhen"] = [condition]
    _questions(data)[2]["enableBehavior"] = behavior
    return definition_load(data).item("detail")


@pytest.mark.parametrize(
    ("operator", "answer", "answers", "enabled"),
    [
        ("exists", True, {"amount": 0}, True),
        ("exists", True, {}, False),
        ("exists", False, {}, True),
        ("!=", 2, {"amount": 3}, True),
        ("!=", 2, {"amount": 2}, False),
        ("!=", 2, {}, False),
        (">=", 3, {"amount": 3}, True),
        ("<", 3, {"amount": 3}, False),
        ("<=", 3, {"amount": 1}, True),
        (">", 3, {"amount": "7"}, False),
        ("=", 1, {"amount": True}, False),
    ],
)
def test_enable_when_operators_follow_fhir(
    operator: str, answer: object, answers: dict[str, Any], enabled: bool
) -> None:
    assert item_is_enabled(_gated(operator, answer), answers) is enabled


def test_enable_behavior_any_needs_one_condition() -> None:
    data = _minimal()
    _questions(data)[2]["enableWhen"] = [
        {"question": "gate", "operator": "=", "answer": True},
        {"question": "amount", "operator": ">", "answer": 3},
    ]
    _questions(data)[2]["enableBehavior"] = "any"
    detail = definition_load(data).item("detail")
    assert item_is_enabled(detail, {"gate": False, "amount": 4})
    assert not item_is_enabled(detail, {"gate": False, "amount": 1})

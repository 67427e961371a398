"""FHIR export, validated with fhir.resources' R4B models.

fhir.resources 8.x has no R4 package: the top-level classes are R5 and R4B lives in
fhir.resources.R4B. R4B is wire-compatible with R4 for Questionnaire and
QuestionnaireResponse. The models check shapes and types but neither code values
(status) nor invariants such as qrs-1, so those are asserted here directly.
"""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from intake.fhir import (
    OPTION_EXCLUSIVE_URL,
    TRANSLATION_URL,
    questionnaire_build,
    questionnaire_response_build,
)
from intake.questionnaires.definition import (
    CONTACT_LINK_IDS,
    Definition,
    Item,
    answers_prune,
    definition_load_shipped,
)

BASE = "https://clinic.example/fhir"
VERSION = "2026.11.1"
AUTHORED = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
VALUE_KEYS = {
    "boolean": "valueBoolean",
    "choice": "valueCoding",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "date": "valueDate",
    "string": "valueString",
    "text": "valueString",
}
CONTACT: dict[str, Any] = {
    "full_name": "Ayşe Yılmaz",
    "birth_date": "1990-04-12",
    "email": "ayse@example.com",
    "phone": "+905321234567",
    "preferred_language": "tr",
    "location": "istanbul_nisantasi",
    "contact_channel": "whatsapp",
    "contact_times": ["morning", "evening"],
    "consent_health": True,
    "consent_marketing": False,
    "photos": 2,
}


@pytest.fixture(scope="module")
def definition() -> Definition:
    return definition_load_shipped()


def _answer_for(item: Item) -> Any:
    """An answer that opens every gate: yes, every option, a value in range."""
    if item.type == "boolean":
        return True
    if item.type == "choice" and item.repeats:
        return [o.code for o in item.options if not o.exclusive]
    if item.type == "choice":
        return item.options[-1].code
    if item.type == "integer":
        return int(item.max_value or 10)
    if item.type == "decimal":
        return 12.5
    if item.type == "date":
        return "2026-10-01"
    return f"answer to {item.link_id}"


def _full_answers(definition: Definition) -> dict[str, Any]:
    answers = {
        item.link_id: _answer_for(item)
        for item in definition.items()
        if item.is_question
        and item.type != "attachment"
        and item.link_id not in CONTACT_LINK_IDS
    }
    return answers_prune(definition, answers)


def _response(
    definition: Definition, answers: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "definition": definition,
        "version": VERSION,
        "canonical_base": BASE,
        "response_id": "0f8e9c52-3b1d-4a8e-9d55-1c2b3a4d5e6f",
        "answers": answers,
        "contact": CONTACT,
        "authored": AUTHORED,
        "language": "tr",
        **overrides,
    }
    return questionnaire_response_build(**arguments)


def _walk(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def _answered(resource: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        item["linkId"]: item["answer"]
        for item in _walk(resource.get("item", []))
        if "answer" in item
    }


def test_full_response_validates_as_fhir(definition: Definition) -> None:
    resource = _response(definition, _full_answers(definition))
    parsed = QuestionnaireResponse.model_validate(resource)
    assert parsed.status == "completed"
    assert parsed.questionnaire == f"{BASE}/Questionnaire/redness-intake|{VERSION}"
    assert resource["authored"] == "2026-11-27T09:30:00+00:00"
    assert resource["language"] == "tr"
    for item in _walk(resource["item"]):
        # qrs-1, which the models do not check: an item holds answers or items.
        assert not ("answer" in item and "item" in item), item["linkId"]


def test_every_answer_has_the_value_type_of_its_item(definition: Definition) -> None:
    answers = _full_answers(definition)
    answered = _answered(_response(definition, answers))
    expected = {**answers, **{k: v for k, v in CONTACT.items() if k != "photos"}}
    assert set(answered) == set(expected)
    for link_id, values in answered.items():
        item = definition.item(link_id)
        assert all(list(v) == [VALUE_KEYS[item.type]] for v in values), link_id
        count = len(expected[link_id]) if item.repeats else 1
        assert len(values) == count, link_id


def test_answer_values_keep_their_meaning(definition: Definition) -> None:
    answers = {
        **_full_answers(definition),
        "weight_loss_kg": 7.5,
        "alcohol_units_per_week": 4,
        "severity": "moderate",
    }
    answered = _answered(_response(definition, answers))
    assert answered["weight_loss"] == [{"valueBoolean": True}]
    assert answered["weight_loss_kg"] == [{"valueDecimal": 7.5}]
    assert answered["alcohol_units_per_week"] == [{"valueInteger": 4}]
    assert answered["recent_tan_date"] == [{"valueDate": "2026-10-01"}]
    assert answered["severity"] == [
        {
            "valueCoding": {
                "system": f"{BASE}/CodeSystem/severity",
                "code": "moderate",
                "display": "Moderate redness",
            }
        }
    ]
    codes = [v["valueCoding"]["code"] for v in answered["allergies"]]
    assert codes == [
        "vitamin_k",
        "hyaluronic_acid",
        "lidocaine",
        "benzyl_alcohol",
        "other",
    ]
    assert answered["location"] == [
        {
            "valueCoding": {
                "system": f"{BASE}/CodeSystem/location",
                "code": "istanbul_nisantasi",
            }
        }
    ]


def test_answers_sit_in_their_step_groups(definition: Definition) -> None:
    resource = _response(definition, _full_answers(definition))
    assert [group["linkId"] for group in resource["item"]] == [
        "concern",
        "triggers",
        "sun_lifestyle",
        "health",
        "health_conditions",
        "health_medicines",
        "skin",
        "about",
    ]
    for group in resource["item"]:
        children = {child.link_id for child in definition.item(group["linkId"]).items}
        assert {child["linkId"] for child in group["item"]} <= children


def test_hidden_follow_up_is_left_out(definition: Definition) -> None:
    answers = {
        **_full_answers(definition),
        "weight_loss": False,
        "allergies": ["none"],
    }
    resource = _response(definition, answers)
    QuestionnaireResponse.model_validate(resource)
    answered = _answered(resource)
    assert answered["weight_loss"] == [{"valueBoolean": False}]
    for hidden in ("weight_loss_kg", "weight_loss_months", "glp1_medication"):
        assert hidden not in answered
    assert "allergy_details" not in answered


def test_unanswered_steps_are_left_out(definition: Definition) -> None:
    resource = _response(definition, {"severity": "mild"}, contact={})
    QuestionnaireResponse.model_validate(resource)
    assert [group["linkId"] for group in resource["item"]] == ["concern"]
    assert [item["linkId"] for item in resource["item"][0]["item"]] == ["severity"]


def test_contact_items_come_from_contact_only(definition: Definition) -> None:
    answers = {**_full_answers(definition), "full_name": "Someone Else"}
    answered = _answered(_response(definition, answers))
    assert answered["full_name"] == [{"valueString": "Ayşe Yılmaz"}]
    assert answered["consent_marketing"] == [{"valueBoolean": False}]
    times = [v["valueCoding"]["code"] for v in answered["contact_times"]]
    assert times == ["morning", "evening"]


def test_photos_are_exported_as_a_count_not_content(definition: Definition) -> None:
    resource = _response(definition, {"severity": "mild"})
    about = next(group for group in resource["item"] if group["linkId"] == "about")
    photos = next(item for item in about["item"] if item["linkId"] == "photos")
    assert "answer" not in photos
    assert photos["extension"] == [
        {"url": f"{BASE}/StructureDefinition/attachment-count", "valueInteger": 2}
    ]


def test_naive_authored_time_is_refused(definition: Definition) -> None:
    with pytest.raises(ValueError, match="timezone"):
        _response(definition, {}, authored=datetime(2026, 11, 27, 9, 30))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("link_id", "value"),
    [
        ("weight_loss", "yes"),
        ("alcohol_units_per_week", 2.5),
        ("severity", "purple"),
        ("allergies", "other"),
        ("recent_tan_date", "01/10/2026"),
    ],
)
def test_answer_that_does_not_fit_its_item_is_refused(
    definition: Definition, link_id: str, value: object
) -> None:
    answers = {"weight_loss": True, "recent_tan": True, link_id: value}
    with pytest.raises(ValueError, match=link_id):
        _response(definition, answers)


# Questionnaire ------------------------------------------------------------------


def _questionnaire_items(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in _walk(resource["item"])}


def test_questionnaire_validates_as_fhir(definition: Definition) -> None:
    resource = questionnaire_build(definition, VERSION, BASE)
    parsed = Questionnaire.model_validate(resource)
    assert parsed.url == f"{BASE}/Questionnaire/redness-intake"
    assert parsed.name == "RednessIntake"
    response = _response(definition, {"severity": "mild"})
    assert response["questionnaire"] == f"{parsed.url}|{parsed.version}"


def test_questionnaire_items_mirror_the_definition(definition: Definition) -> None:
    items = _questionnaire_items(questionnaire_build(definition, VERSION, BASE))
    for item in definition.items():
        exported = items[item.link_id]
        assert exported["type"] == item.type
        assert exported.get("required", False) is item.required
        assert exported.get("repeats", False) is item.repeats
        assert exported["text"] == item.text.en
        codes = [o["valueCoding"]["code"] for o in exported.get("answerOption", [])]
        assert codes == [o.code for o in item.options]
        if item.type == "display":
            assert not {"required", "repeats", "answerOption"} & set(exported)
    assert items["location"]["answerValueSet"] == f"{BASE}/ValueSet/locations"


def test_questionnaire_enable_when_uses_typed_answers(definition: Definition) -> None:
    items = _questionnaire_items(questionnaire_build(definition, VERSION, BASE))
    assert items["weight_loss_kg"]["enableWhen"] == [
        {"question": "weight_loss", "operator": "=", "answerBoolean": True}
    ]
    assert items["allergy_details"]["enableWhen"] == [
        {
            "question": "allergies",
            "operator": "=",
            "answerCoding": {"system": f"{BASE}/CodeSystem/allergies", "code": "other"},
        }
    ]


def test_questionnaire_carries_turkish_and_exclusive_options(
    definition: Definition,
) -> None:
    items = _questionnaire_items(questionnaire_build(definition, VERSION, BASE))
    translation = items["severity"]["_text"]["extension"][0]
    assert translation["url"] == TRANSLATION_URL
    assert {"url": "lang", "valueCode": "tr"} in translation["extension"]
    none = items["allergies"]["answerOption"][0]
    assert none["valueCoding"]["code"] == "none"
    assert none["extension"] == [{"url": OPTION_EXCLUSIVE_URL, "valueBoolean": True}]
    assert items["glp1_medication.help"]["type"] == "display"
    notice = items["consent_health.privacy_notice"]["text"]
    assert notice == definition.privacy_notice.en

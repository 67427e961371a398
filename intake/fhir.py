"""FHIR R4 Questionnaire and QuestionnaireResponse resources built from a definition.

Pure Python (no Django): the resources are plain JSON-compatible dicts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, Final

from intake.questionnaires.definition import (
    CONTACT_LINK_IDS,
    Definition,
    EnableWhen,
    Item,
    Option,
    Text,
    answers_prune,
    is_number,
)

CONSENT_LINK_ID: Final = "consent_health"

_EXT: Final = "http://hl7.org/fhir/StructureDefinition/"
TRANSLATION_URL: Final = _EXT + "translation"
OPTION_EXCLUSIVE_URL: Final = _EXT + "questionnaire-optionExclusive"
MIN_VALUE_URL: Final = _EXT + "minValue"
MAX_VALUE_URL: Final = _EXT + "maxValue"
MAX_OCCURS_URL: Final = _EXT + "questionnaire-maxOccurs"
ITEM_CONTROL_URL: Final = _EXT + "questionnaire-itemControl"
ITEM_CONTROL_SYSTEM: Final = "http://hl7.org/fhir/questionnaire-item-control"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VALUE_KEY: Final = {
    "boolean": "Boolean",
    "integer": "Integer",
    "decimal": "Decimal",
    "date": "Date",
    "string": "String",
    "text": "String",
    "choice": "Coding",
}


def questionnaire_response_build(
    *,
    definition: Definition,
    version: str,
    canonical_base: str,
    response_id: str,
    answers: Mapping[str, Any],
    contact: Mapping[str, Any],
    authored: datetime,
    language: str,
) -> dict[str, Any]:
    """A completed QuestionnaireResponse holding `answers` and `contact`.

    Contact items come only from `contact`; hidden and unanswered items are left out,
    photos appear as a count extension, never as content. ValueError on a bad value.
    """
    if authored.utcoffset() is None:
        raise ValueError("authored must be timezone-aware")
    base = canonical_base.rstrip("/")
    merged = {k: v for k, v in answers.items() if k not in CONTACT_LINK_IDS}
    merged.update((k, contact[k]) for k in CONTACT_LINK_IDS if k in contact)
    if "photos" in contact:
        merged["photos"] = contact["photos"]
    merged = {k: v for k, v in merged.items() if v is not None}
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{base}/Questionnaire/{definition.slug}|{version}",
        "status": "completed",
        "authored": authored.isoformat(),
        "language": language,
    }
    items = _response_items(definition.steps, answers_prune(definition, merged), base)
    if items:
        resource["item"] = items
    return resource


def _response_items(
    items: Iterable[Item], answers: Mapping[str, Any], base: str
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        entry: dict[str, Any] = {"linkId": item.link_id, "text": item.text.en}
        if item.type == "group":
            children = _response_items(item.items, answers, base)
            if children:
                out.append({**entry, "item": children})
        elif item.type == "attachment":
            count = _attachment_count(item, answers.get(item.link_id))
            if count:
                url = f"{base}/StructureDefinition/attachment-count"
                out.append(
                    {**entry, "extension": [{"url": url, "valueInteger": count}]}
                )
        elif item.is_question and item.link_id in answers:
            values = _answer_values(item, answers[item.link_id], base)
            if values:
                out.append({**entry, "answer": values})
    return out


def _attachment_count(item: Item, value: object) -> int:
    """Photos are exported as a count: an int, or the length of a list of ids."""
    if isinstance(value, list | tuple):
        return len(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value or 0
    raise ValueError(f"{item.link_id}: expected a count or a list of attachments")


def _answer_values(item: Item, value: object, base: str) -> list[dict[str, Any]]:
    if item.repeats:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{item.link_id}: expected a list of answers")
        values: list[object] = list(value)
    else:
        values = [value]
    return [{f"value{_VALUE_KEY[item.type]}": _value(item, v, base)} for v in values]


def _value(item: Item, value: object, base: str) -> Any:
    """One answer in its FHIR form; ValueError when it does not fit the item type."""
    kind = item.type
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "integer" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "decimal" and is_number(value):
        return value
    if kind in ("string", "text") and isinstance(value, str):
        return value
    if kind == "date" and isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if kind == "date" and isinstance(value, str) and _ISO_DATE.match(value):
        return date.fromisoformat(value).isoformat()
    if kind == "choice" and isinstance(value, str):
        return _coding(item, value, base)
    raise ValueError(f"{item.link_id}: {value!r} is not a valid {kind} answer")


def _coding(item: Item, code: str, base: str) -> dict[str, Any]:
    coding: dict[str, Any] = {
        "system": f"{base}/CodeSystem/{item.link_id}",
        "code": code,
    }
    if item.value_set is not None:  # codes filled at render time, e.g. locations
        return coding
    option = item.option(code)
    if option is None:
        raise ValueError(f"{item.link_id}: {code!r} is not one of its options")
    return {**coding, "display": option.display.en}


def questionnaire_build(
    definition: Definition, version: str, canonical_base: str
) -> dict[str, Any]:
    """The FHIR R4 Questionnaire for `definition`: English text, Turkish translations.

    Help lines become display children with the "help" item control; the privacy notice
    becomes a display child of the health-data consent item.
    """
    base = canonical_base.rstrip("/")
    return {
        "resourceType": "Questionnaire",
        "id": definition.slug,
        "url": f"{base}/Questionnaire/{definition.slug}",
        "version": version,
        "name": "".join(part.title() for part in re.split(r"[-_]", definition.slug)),
        "title": definition.title.en,
        "_title": _translations(definition.title),
        "status": "active",
        "language": "en",
        "description": definition.description.en,
        "_description": _translations(definition.description),
        "item": [_questionnaire_item(i, definition, base) for i in definition.steps],
    }


def _translations(text: Text) -> dict[str, Any]:
    """The `_element` holding the Turkish translation of an English primitive."""
    translation = [
        {"url": "lang", "valueCode": "tr"},
        {"url": "content", "valueString": text.tr},
    ]
    return {"extension": [{"url": TRANSLATION_URL, "extension": translation}]}


def _display_item(link_id: str, text: Text, *, help_control: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "linkId": link_id,
        "text": text.en,
        "_text": _translations(text),
        "type": "display",
    }
    if help_control:
        coding = {
            "system": ITEM_CONTROL_SYSTEM,
            "code": "help",
            "display": "Help-Button",
        }
        control = {
            "url": ITEM_CONTROL_URL,
            "valueCodeableConcept": {"coding": [coding]},
        }
        item["extension"] = [control]
    return item


def _questionnaire_item(
    item: Item, definition: Definition, base: str
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "linkId": item.link_id,
        "text": item.text.en,
        "_text": _translations(item.text),
        "type": item.type,
    }
    extensions = _limits(item)
    if extensions:
        out["extension"] = extensions
    if item.required:
        out["required"] = True
    if item.repeats:
        out["repeats"] = True
    if item.max_length is not None:
        out["maxLength"] = item.max_length
    if item.enable_when:
        out["enableWhen"] = [
            _enable_when(c, definition, base) for c in item.enable_when
        ]
        # FHIR requires enableBehavior once there is more than one condition.
        if len(item.enable_when) > 1 or item.enable_behavior != "all":
            out["enableBehavior"] = item.enable_behavior
    if item.value_set is not None:
        out["answerValueSet"] = f"{base}/ValueSet/{item.value_set}"
    if item.options:
        out["answerOption"] = [
            _answer_option(item.link_id, option, base) for option in item.options
        ]
    children = [_questionnaire_item(c, definition, base) for c in item.items]
    # Dots never occur in definition linkIds, so these cannot collide with them.
    if item.help is not None:
        children.append(
            _display_item(f"{item.link_id}.help", item.help, help_control=True)
        )
    if item.link_id == CONSENT_LINK_ID:
        notice = definition.privacy_notice
        link_id = f"{item.link_id}.privacy_notice"
        children.append(_display_item(link_id, notice, help_control=False))
    if children:
        out["item"] = children
    return out


def _limits(item: Item) -> list[dict[str, Any]]:
    value_key = "valueInteger" if item.type == "integer" else "valueDecimal"
    extensions: list[dict[str, Any]] = []
    if item.min_value is not None:
        extensions.append({"url": MIN_VALUE_URL, value_key: item.min_value})
    if item.max_value is not None:
        extensions.append({"url": MAX_VALUE_URL, value_key: item.max_value})
    if item.max_attachments is not None:
        extensions.append({"url": MAX_OCCURS_URL, "valueInteger": item.max_attachments})
    return extensions


def _answer_option(link_id: str, option: Option, base: str) -> dict[str, Any]:
    coding = {
        "system": f"{base}/CodeSystem/{link_id}",
        "code": option.code,
        "display": option.display.en,
        "_display": _translations(option.display),
    }
    entry: dict[str, Any] = {"valueCoding": coding}
    if option.exclusive:
        entry["extension"] = [{"url": OPTION_EXCLUSIVE_URL, "valueBoolean": True}]
    return entry


def _enable_when(
    condition: EnableWhen, definition: Definition, base: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "question": condition.question,
        "operator": condition.operator,
    }
    target = definition.item(condition.question)
    if condition.operator == "exists" or target.type == "boolean":
        entry["answerBoolean"] = condition.answer
    elif target.type == "choice":
        entry["answerCoding"] = {
            "system": f"{base}/CodeSystem/{target.link_id}",
            "code": condition.answer,
        }
    else:
        entry[f"answer{_VALUE_KEY[target.type]}"] = condition.answer
    return entry

"""Questionnaire definitions: validate the shipped YAML and evaluate enableWhen.

Pure Python (no Django), so the screening engine and the FHIR export can share it.
"""

from intake.questionnaires.definition.enable import answers_prune, item_is_enabled
from intake.questionnaires.definition.length import Length, length_ahead
from intake.questionnaires.definition.loader import (
    SHIPPED_DIR,
    definition_load,
    definition_load_shipped,
    definition_read,
)
from intake.questionnaires.definition.model import (
    CONTACT_LINK_IDS,
    ITEM_TYPES,
    LANGUAGES,
    NO_ANSWER_TYPES,
    OPERATORS,
    Definition,
    DefinitionInvalid,
    EnableBehavior,
    EnableWhen,
    Item,
    ItemType,
    Operator,
    Option,
    Scalar,
    Text,
    essential_item_problems,
    is_number,
    walk_items,
)

__all__ = [
    "CONTACT_LINK_IDS",
    "ITEM_TYPES",
    "LANGUAGES",
    "NO_ANSWER_TYPES",
    "OPERATORS",
    "SHIPPED_DIR",
    "Definition",
    "DefinitionInvalid",
    "EnableBehavior",
    "EnableWhen",
    "Item",
    "ItemType",
    "Length",
    "Operator",
    "Option",
    "Scalar",
    "Text",
    "answers_prune",
    "definition_load",
    "definition_load_shipped",
    "definition_read",
    "essential_item_problems",
    "is_number",
    "item_is_enabled",
    "length_ahead",
    "walk_items",
]

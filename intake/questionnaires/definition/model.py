"""The parsed form of a questionnaire definition: frozen dataclasses and lookups."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, TypeAlias, get_args

ItemType: TypeAlias = Literal[
    "group",
    "display",
    "boolean",
    "choice",
    "integer",
    "decimal",
    "date",
    "string",
    "text",
    "attachment",
]
Operator: TypeAlias = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
EnableBehavior: TypeAlias = Literal["all", "any"]
Scalar: TypeAlias = bool | int | float | str

LANGUAGES: Final = ("en", "tr")
ITEM_TYPES: Final[tuple[str, ...]] = get_args(ItemType)
OPERATORS: Final[tuple[str, ...]] = get_args(Operator)
NO_ANSWER_TYPES: Final = frozenset({"group", "display"})


def is_number(value: object) -> bool:
    """True for an int or float answer; a bool is never a number here."""
    return isinstance(value, int | float) and not isinstance(value, bool)


class DefinitionInvalid(Exception):
    """A definition failed validation; `messages` has one "<linkId>: <problem>" each."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Text:
    en: str
    tr: str

    def get(self, language: str) -> str:
        """The text in `language`, English for any language without a translation."""
        return self.tr if language == "tr" else self.en


@dataclass(frozen=True)
class Option:
    code: str
    display: Text
    exclusive: bool = False


@dataclass(frozen=True)
class EnableWhen:
    question: str
    operator: Operator
    answer: Scalar


@dataclass(frozen=True)
class Item:
    link_id: str
    type: ItemType
    text: Text
    help: Text | None = None
    required: bool = False
    repeats: bool = False
    options: tuple[Option, ...] = ()
    value_set: str | None = None
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: EnableBehavior = "all"
    min_value: int | float | None = None
    max_value: int | float | None = None
    max_length: int | None = None
    max_attachments: int | None = None
    items: tuple[Item, ...] = ()

    @property
    def is_question(self) -> bool:
        """True for items that take an answer (not groups, not display text)."""
        return self.type not in NO_ANSWER_TYPES

    def option(self, code: str) -> Option | None:
        """The answer option with `code`, or None."""
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Definition:
    slug: str
    title: Text
    description: Text
    privacy_notice_version: str
    privacy_notice: Text
    steps: tuple[Item, ...]
    _index: dict[str, Item] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {i.link_id: i for i in _walk(self.steps)})

    def item(self, link_id: str) -> Item:
        """The item (group or not) with `link_id`; KeyError when there is none."""
        return self._index[link_id]

    def items(self) -> Iterator[Item]:
        """Every non-group item, in document order."""
        return (i for i in _walk(self.steps) if i.type != "group")


def walk_items(group: Item) -> Iterator[Item]:
    """The items under `group` that are not groups, in document order."""
    return (i for i in _walk(group.items) if i.type != "group")


def _walk(items: Iterable[Item]) -> Iterator[Item]:
    for item in items:
        yield item
        yield from _walk(item.items)


# The "About you" items: kept in plain submission columns (coordinators search them),
# never among the encrypted health answers.
CONTACT_LINK_IDS: Final = (
    "full_name",
    "birth_date",
    "email",
    "phone",
    "preferred_language",
    "location",
    "contact_channel",
    "contact_times",
    "photos",
    "consent_health",
    "consent_marketing",
)

# Items every questionnaire must have, required and never hidden, with their types:
# submissions store them in columns, consent gates everything, and the next steps
# are worked out per wanted treatment.
ESSENTIAL_ITEMS: Final = {
    "full_name": "string",
    "birth_date": "date",
    "email": "string",
    "phone": "string",
    "preferred_language": "choice",
    "location": "choice",
    "contact_channel": "choice",
    "contact_times": "choice",
    "consent_health": "boolean",
    "treatments_wanted": "choice",
}


def essential_item_problems(definition: Definition) -> list[str]:
    """What keeps a valid definition from serving as the clinic's questionnaire."""
    problems = []
    for link_id, kind in ESSENTIAL_ITEMS.items():
        try:
            item = definition.item(link_id)
        except KeyError:
            problems.append(f"{link_id}: this item is needed in every questionnaire")
            continue
        if item.type != kind:
            problems.append(f"{link_id}: must be of type {kind}")
        elif not item.required or item.enable_when:
            problems.append(f"{link_id}: must be required and never hidden")
    return problems

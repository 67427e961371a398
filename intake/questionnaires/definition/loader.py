"""Load questionnaire definitions: validate a parsed YAML mapping and build it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, cast

import yaml

from intake.questionnaires.definition.model import (
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
    Option,
    Text,
    is_number,
)

SHIPPED_DIR: Final = Path(__file__).resolve().parent.parent

_LINK_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ORDERED: Final = frozenset({"integer", "decimal", "date"})
_CONDITION_KEYS: Final = frozenset({"question", "operator", "answer"})
_TOP_KEYS: Final = frozenset(
    {"slug", "title", "description", "privacyNoticeVersion", "privacyNotice", "item"}
)
_ITEM_KEYS: Final = frozenset(
    {
        "linkId",
        "type",
        "text",
        "help",
        "required",
        "repeats",
        "answerOption",
        "answerValueSet",
        "enableWhen",
        "enableBehavior",
        "minValue",
        "maxValue",
        "maxLength",
        "maxAttachments",
        "item",
    }
)


def definition_load(data: Mapping[str, Any]) -> Definition:
    """Validate a parsed definition and build it.

    Raises DefinitionInvalid listing every problem found, not only the first.
    """
    return _Loader().load(data)


def definition_read(path: Path) -> Definition:
    """Parse and validate one YAML definition file."""
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, Mapping):
        raise DefinitionInvalid([f"{path.name}: not a mapping"])
    return definition_load(data)


def definition_load_shipped(slug: str = "redness-intake") -> Definition:
    """The definition shipped with the code as `<slug>.yaml`."""
    return definition_read(SHIPPED_DIR / f"{slug}.yaml")


class _Loader:
    """Collects every problem instead of stopping at the first one."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        # Items seen so far in document order: groups map to None.
        self.seen: dict[str, Item | None] = {}

    def error(self, where: str, problem: str) -> None:
        self.messages.append(f"{where}: {problem}")

    def load(self, data: Mapping[str, Any]) -> Definition:
        self.unknown_keys("definition", data, _TOP_KEYS)
        slug = data.get("slug")
        if not isinstance(slug, str) or not _SLUG.match(slug):
            self.error("slug", "must be lower-case letters, digits and hyphens")
        version = data.get("privacyNoticeVersion")
        if isinstance(version, date):  # YAML reads an unquoted 2026-11-01 as a date
            version = version.isoformat()
        if not isinstance(version, str) or not version:
            self.error("privacyNoticeVersion", "must be a non-empty string")
        title = self.text(data.get("title"), "title", "title")
        description = self.text(data.get("description"), "description", "description")
        notice = self.text(data.get("privacyNotice"), "privacyNotice", "privacyNotice")
        steps = self.children(data.get("item"), "definition", top_level=True)
        if self.messages:
            raise DefinitionInvalid(self.messages)
        return Definition(
            slug=cast(str, slug),
            title=title,
            description=description,
            privacy_notice_version=cast(str, version),
            privacy_notice=notice,
            steps=steps,
        )

    def unknown_keys(
        self, where: str, data: Mapping[str, Any], known: Iterable[str]
    ) -> None:
        for key in sorted(set(data) - set(known), key=str):
            self.error(where, f"unknown key {key!r}")

    def text(self, value: object, where: str, what: str) -> Text:
        if not isinstance(value, Mapping):
            self.error(where, f"{what} must be a mapping of en and tr")
            return Text("", "")
        self.unknown_keys(where, value, LANGUAGES)
        texts: dict[str, str] = {}
        for language in LANGUAGES:
            text = value.get(language)
            if not isinstance(text, str) or not text.strip():
                self.error(where, f"{what} has no {language} text")
                text = ""
            texts[language] = text.strip()
        return Text(en=texts["en"], tr=texts["tr"])

    def children(
        self, value: object, where: str, *, top_level: bool
    ) -> tuple[Item, ...]:
        if not isinstance(value, list) or not value:
            self.error(where, "item must be a non-empty list")
            return ()
        parsed = (
            self.item(raw, f"{where} item {n}", top_level=top_level)
            for n, raw in enumerate(value, start=1)
        )
        return tuple(item for item in parsed if item is not None)

    def item(self, data: object, position: str, *, top_level: bool) -> Item | None:
        if not isinstance(data, Mapping):
            self.error(position, "must be a mapping")
            return None
        link_id = data.get("linkId")
        if not isinstance(link_id, str) or not _LINK_ID.match(link_id):
            self.error(position, f"linkId {link_id!r} must match {_LINK_ID.pattern}")
            return None
        if link_id in self.seen:
            self.error(link_id, "duplicate linkId")
        self.unknown_keys(link_id, data, _ITEM_KEYS)
        kind = data.get("type")
        if kind not in ITEM_TYPES:
            self.error(link_id, f"unknown type {kind!r}")
            return None
        kind = cast(ItemType, kind)
        if top_level and kind != "group":
            self.error(link_id, "top-level items must be groups")
        text = self.text(data.get("text"), link_id, "text")
        help_text = self.text(data["help"], link_id, "help") if "help" in data else None
        required = self.flag(data, "required", link_id)
        repeats = self.flag(data, "repeats", link_id)
        if required and kind in NO_ANSWER_TYPES:
            self.error(link_id, f"a {kind} item cannot be required")
        if repeats and kind not in ("choice", "attachment"):
            self.error(link_id, "only choice and attachment items may repeat")
        options, value_set = self.answers(data, link_id, kind, repeats)
        enable_when = self.enable_when(data.get("enableWhen", []), link_id)
        behavior = data.get("enableBehavior", "all")
        if behavior not in ("all", "any"):
            self.error(link_id, "enableBehavior must be all or any")
        min_value, max_value = self.bounds(data, link_id, kind)
        max_length = self.limit(data, "maxLength", link_id, kind in ("string", "text"))
        max_attachments = self.limit(
            data, "maxAttachments", link_id, kind == "attachment"
        )
        if max_attachments is not None and max_attachments > 1 and not repeats:
            self.error(link_id, "maxAttachments above 1 needs repeats: true")
        children: tuple[Item, ...] = ()
        if kind == "group":
            self.seen[link_id] = None
            children = self.children(data.get("item"), link_id, top_level=False)
        elif "item" in data:
            self.error(link_id, "only groups may have child items")
        item = Item(
            link_id=link_id,
            type=kind,
            text=text,
            help=help_text,
            required=required,
            repeats=repeats,
            options=options,
            value_set=value_set,
            enable_when=enable_when,
            enable_behavior=cast(EnableBehavior, behavior),
            min_value=min_value,
            max_value=max_value,
            max_length=max_length,
            max_attachments=max_attachments,
            items=children,
        )
        if kind != "group":
            self.seen[link_id] = item
        return item

    def flag(self, data: Mapping[str, Any], key: str, link_id: str) -> bool:
        value = data.get(key, False)
        if not isinstance(value, bool):
            self.error(link_id, f"{key} must be true or false")
            return False
        return value

    def answers(
        self, data: Mapping[str, Any], link_id: str, kind: str, repeats: bool
    ) -> tuple[tuple[Option, ...], str | None]:
        raw_options, value_set = data.get("answerOption"), data.get("answerValueSet")
        if kind != "choice":
            if raw_options is not None or value_set is not None:
                self.error(
                    link_id, "only choice items have answerOption/answerValueSet"
                )
            return (), None
        if (raw_options is None) == (value_set is None):
            self.error(
                link_id, "a choice needs exactly one of answerOption, answerValueSet"
            )
            return (), None
        if value_set is not None:
            if not isinstance(value_set, str) or not _LINK_ID.match(value_set):
                self.error(link_id, "answerValueSet must be a name like 'locations'")
                return (), None
            return (), value_set
        if not isinstance(raw_options, list) or not raw_options:
            self.error(link_id, "answerOption must be a non-empty list")
            return (), None
        options: list[Option] = []
        for raw in raw_options:
            if not isinstance(raw, Mapping):
                self.error(link_id, "each answerOption must be a mapping")
                continue
            self.unknown_keys(link_id, raw, ("code", "display", "exclusive"))
            code = raw.get("code")
            if not isinstance(code, str) or not _CODE.match(code):
                # YAML 1.1 turns unquoted yes/no into booleans, hence the repr.
                self.error(link_id, f"option code {code!r} must match {_CODE.pattern}")
                continue
            if any(o.code == code for o in options):
                self.error(link_id, f"duplicate option code {code!r}")
            exclusive = self.flag(raw, "exclusive", link_id)
            if exclusive and not repeats:
                self.error(
                    link_id,
                    f"option {code!r} is exclusive but the item does not repeat",
                )
            display = self.text(raw.get("display"), link_id, f"option {code!r} display")
            options.append(Option(code=code, display=display, exclusive=exclusive))
        return tuple(options), None

    def enable_when(self, value: object, link_id: str) -> tuple[EnableWhen, ...]:
        if not isinstance(value, list):
            self.error(link_id, "enableWhen must be a list")
            return ()
        conditions: list[EnableWhen] = []
        for raw in value:
            if not isinstance(raw, Mapping) or set(raw) != _CONDITION_KEYS:
                self.error(
                    link_id, "enableWhen needs exactly question, operator, answer"
                )
                continue
            condition = self.condition(raw, link_id)
            if condition is not None:
                conditions.append(condition)
        return tuple(conditions)

    def condition(self, raw: Mapping[str, Any], link_id: str) -> EnableWhen | None:
        question, operator, answer = raw["question"], raw["operator"], raw["answer"]
        if not isinstance(question, str) or question not in self.seen:
            self.error(
                link_id, f"enableWhen question {question!r} is not an earlier item"
            )
            return None
        target = self.seen[question]
        if target is None or not target.is_question:
            self.error(link_id, f"enableWhen question {question!r} takes no answer")
            return None
        if operator not in OPERATORS:
            self.error(link_id, f"unknown enableWhen operator {operator!r}")
            return None
        if isinstance(answer, date) and not isinstance(answer, datetime):
            answer = answer.isoformat()
        problem = _condition_problem(target, operator, answer)
        if problem:
            self.error(link_id, f"enableWhen on {question!r}: {problem}")
            return None
        return EnableWhen(question=question, operator=operator, answer=answer)

    def bounds(
        self, data: Mapping[str, Any], link_id: str, kind: str
    ) -> tuple[int | float | None, int | float | None]:
        values: list[int | float | None] = []
        for key in ("minValue", "maxValue"):
            value = data.get(key)
            if value is None:
                values.append(None)
            elif kind not in ("integer", "decimal"):
                self.error(link_id, f"{key} is only for integer and decimal items")
                values.append(None)
            elif not is_number(value) or (
                kind == "integer" and not isinstance(value, int)
            ):
                noun = "an integer" if kind == "integer" else "a number"
                self.error(link_id, f"{key} must be {noun}")
                values.append(None)
            else:
                values.append(value)
        low, high = values
        if low is not None and high is not None and low > high:
            self.error(link_id, "minValue is above maxValue")
        return low, high

    def limit(
        self, data: Mapping[str, Any], key: str, link_id: str, allowed: bool
    ) -> int | None:
        value: object = data.get(key)
        if value is None:
            return None
        if not allowed:
            self.error(link_id, f"{key} does not apply to this item type")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.error(link_id, f"{key} must be a positive integer")
            return None
        return value


def _condition_problem(target: Item, operator: str, answer: object) -> str | None:
    """Why `answer` cannot be compared with answers to `target`, or None when it can."""
    if operator == "exists":
        return None if isinstance(answer, bool) else "exists needs answer true or false"
    if operator not in ("=", "!=") and target.type not in _ORDERED:
        return f"{operator} needs an integer, decimal or date question"
    kind = target.type
    if kind == "boolean":
        return None if isinstance(answer, bool) else "answer must be true or false"
    if kind == "choice":
        if not isinstance(answer, str):
            return "answer must be an option code"
        if target.options and target.option(answer) is None:
            return f"{answer!r} is not one of its options"
        return None
    if kind == "integer":
        ok = isinstance(answer, int) and not isinstance(answer, bool)
        return None if ok else "answer must be an integer"
    if kind == "decimal":
        return None if is_number(answer) else "answer must be a number"
    if kind == "date":
        ok = isinstance(answer, str) and _is_iso_date(answer)
        return None if ok else "answer must be a YYYY-MM-DD date"
    if kind in ("string", "text"):
        return None if isinstance(answer, str) else "answer must be a string"
    return f"a {kind} item only supports exists"


def _is_iso_date(value: str) -> bool:
    if not _ISO_DATE.match(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True

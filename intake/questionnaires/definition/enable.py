"""enableWhen over the contract's answer format, and pruning of hidden answers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from typing import Any, cast

from intake.questionnaires.definition.model import (
    Definition,
    EnableWhen,
    Item,
    Scalar,
    is_number,
)


def _has_answer(value: object) -> bool:
    return value is not None and value != "" and value != []


def _same(left: object, right: Scalar) -> bool:
    # True == 1 in Python; a boolean answer never equals a number here.
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return left == right


def _ordered(left: object, operator: str, right: Scalar) -> bool:
    comparable = (is_number(left) and is_number(right)) or (
        isinstance(left, str) and isinstance(right, str)
    )
    if not comparable:
        return False
    a, b = cast(Any, left), cast(Any, right)
    if operator == ">":
        return bool(a > b)
    if operator == "<":
        return bool(a < b)
    if operator == ">=":
        return bool(a >= b)
    return bool(a <= b)


def _condition_holds(condition: EnableWhen, answers: Mapping[str, Any]) -> bool:
    value = answers.get(condition.question)
    present = _has_answer(value)
    if condition.operator == "exists":
        return present is condition.answer
    if not present:
        return False
    values = list(value) if isinstance(value, list | tuple) else [value]
    values = [v.isoformat() if isinstance(v, date) else v for v in values]
    if condition.operator == "=":
        return any(_same(v, condition.answer) for v in values)
    if condition.operator == "!=":
        # FHIR: true when no answer equals the given one.
        return not any(_same(v, condition.answer) for v in values)
    return any(_ordered(v, condition.operator, condition.answer) for v in values)


def item_is_enabled(item: Item, answers: Mapping[str, Any]) -> bool:
    """Whether `item`'s own enableWhen holds for `answers` (FHIR semantics).

    A list answer satisfies "=" when it contains the value and "!=" when it does not;
    a comparison with a missing answer is false. Enclosing groups are not consulted.
    """
    if not item.enable_when:
        return True
    results = (_condition_holds(c, answers) for c in item.enable_when)
    return any(results) if item.enable_behavior == "any" else all(results)


def answers_prune(definition: Definition, answers: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `answers` without answers to disabled items, repeated until stable.

    Hiding an item can hide its dependants, and a hidden group hides its children.
    Keys that are not items of the definition are kept unchanged.
    """
    pruned = dict(answers)
    while True:
        hidden = [
            link_id
            for link_id in _disabled(definition.steps, pruned, parent_enabled=True)
            if link_id in pruned
        ]
        if not hidden:
            return pruned
        for link_id in hidden:
            del pruned[link_id]


def _disabled(
    items: Iterable[Item], answers: Mapping[str, Any], *, parent_enabled: bool
) -> Iterator[str]:
    for item in items:
        enabled = parent_enabled and item_is_enabled(item, answers)
        if not enabled:
            yield item.link_id
        yield from _disabled(item.items, answers, parent_enabled=enabled)

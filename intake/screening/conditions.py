"""Rule conditions: a small dict grammar compiled once into three-valued nodes.

A node's value is True, False or None (unknown: a question it reads is unanswered or its
answer unreadable). `all`, `any` and `not` follow Kleene logic. The operator registry is
`OPERATORS`, in this module only.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.dates import months_after

Tri = bool | None
Answers = Mapping[str, Any]
# An operator's test on a present answer; TypeError or ValueError means "unreadable".
Test = Callable[[Any, date], bool]

# A virtual item: whole years from the birth date to the evaluation day.
AGE = "age"
_MISSING = object()


class OperandInvalid(ValueError):
    """An operator was given an operand it cannot use."""


class Node(ABC):
    """A compiled condition."""

    __slots__ = ()

    @abstractmethod
    def value(self, answers: Answers, today: date) -> Tri:
        """True, False, or None when unanswered questions leave it undecided."""

    @abstractmethod
    def explain(
        self, answers: Answers, today: date, evidence: list[str], missing: list[str]
    ) -> None:
        """Append the items that decide this node's value: answered ones to `evidence`,
        unanswered ones to `missing`."""

    @abstractmethod
    def items(self) -> frozenset[str]:
        """Every item this condition reads."""


class Leaf(Node):
    """One operator applied to one item's answer."""

    __slots__ = ("_on_missing", "_test", "item", "operand", "operator")

    def __init__(
        self, item: str, operator: str, operand: object, test: Test, on_missing: Tri
    ) -> None:
        self.item = item
        self.operator = operator
        self.operand = operand
        self._test = test
        self._on_missing = on_missing

    def value(self, answers: Answers, today: date) -> Tri:
        answer = answers.get(self.item, _MISSING)
        if answer is _MISSING:
            return self._on_missing
        try:
            return self._test(answer, today)
        except (TypeError, ValueError):
            return None

    def explain(
        self, answers: Answers, today: date, evidence: list[str], missing: list[str]
    ) -> None:
        if self.item in answers:
            is_read = self.value(answers, today) is not None
            (evidence if is_read else missing).append(self.item)
        elif self._on_missing is None:
            missing.append(self.item)

    def items(self) -> frozenset[str]:
        return frozenset((self.item,))


class Conjunction(Node):
    """True when every child is; an empty `all` is always true."""

    __slots__ = ("children",)

    def __init__(self, children: Sequence[Node]) -> None:
        self.children = tuple(children)

    def value(self, answers: Answers, today: date) -> Tri:
        result: Tri = True
        for child in self.children:
            child_value = child.value(answers, today)
            if child_value is False:
                return False
            if child_value is None:
                result = None
        return result

    def explain(
        self, answers: Answers, today: date, evidence: list[str], missing: list[str]
    ) -> None:
        # False is explained by the false children; True and unknown by the rest.
        is_false = self.value(answers, today) is False
        for child in self.children:
            if (child.value(answers, today) is False) == is_false:
                child.explain(answers, today, evidence, missing)

    def items(self) -> frozenset[str]:
        return frozenset().union(*(child.items() for child in self.children))


class Disjunction(Node):
    """True when some child is."""

    __slots__ = ("children",)

    def __init__(self, children: Sequence[Node]) -> None:
        self.children = tuple(children)

    def value(self, answers: Answers, today: date) -> Tri:
        result: Tri = False
        for child in self.children:
            child_value = child.value(answers, today)
            if child_value is True:
                return True
            if child_value is None:
                result = None
        return result

    def explain(
        self, answers: Answers, today: date, evidence: list[str], missing: list[str]
    ) -> None:
        own = self.value(answers, today)
        for child in self.children:
            if own is False or child.value(answers, today) is own:
                child.explain(answers, today, evidence, missing)

    def items(self) -> frozenset[str]:
        return frozenset().union(*(child.items() for child in self.children))


class Negation(Node):
    """True when its child is false; unknown stays unknown."""

    __slots__ = ("child",)

    def __init__(self, child: Node) -> None:
        self.child = child

    def value(self, answers: Answers, today: date) -> Tri:
        child_value = self.child.value(answers, today)
        return None if child_value is None else not child_value

    def explain(
        self, answers: Answers, today: date, evidence: list[str], missing: list[str]
    ) -> None:
        self.child.explain(answers, today, evidence, missing)

    def items(self) -> frozenset[str]:
        return self.child.items()


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end."""
    return months_after(day, -months)


def answer_date(answer: Any) -> date:
    """A date answer ("YYYY-MM-DD" or a date); TypeError or ValueError otherwise."""
    if isinstance(answer, date):
        return answer
    if not isinstance(answer, str):
        raise TypeError("a date answer is a string")
    return date.fromisoformat(answer)


# Operator builders: validate the operand, return the test and the value when the
# item is unanswered (None, "unknown", for all but `answered`).
Built = tuple[Test, Tri]


def _scalar(operand: object) -> str | int | float | bool:
    if not isinstance(operand, str | int | float | bool):
        raise OperandInvalid("needs a single value (text, number or true/false)")
    return operand


def _codes(operand: object) -> frozenset[str | int | float | bool]:
    if not isinstance(operand, list) or not operand:
        raise OperandInvalid("needs a non-empty list of values")
    return frozenset(_scalar(value) for value in operand)


def _number(operand: object) -> float:
    if isinstance(operand, bool) or not isinstance(operand, int | float):
        raise OperandInvalid("needs a number")
    return float(operand)


def _count(operand: object) -> int:
    if isinstance(operand, bool) or not isinstance(operand, int) or operand < 1:
        raise OperandInvalid("needs a whole number of at least 1")
    return operand


def _numeric_answer(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, int | float):
        raise TypeError("not a number")
    return float(answer)


def _types_like(value: object) -> frozenset[type]:
    """The answer types comparable with a rule's value. An answer of another type is
    unreadable, so the text "true" never reads as "no" to `equals: true`."""
    if isinstance(value, bool):
        return frozenset((bool,))
    if isinstance(value, int | float):
        return frozenset((int, float))
    return frozenset((type(value),))


def _equals(operand: object) -> Built:
    expected = _scalar(operand)
    types = _types_like(expected)

    def test(answer: Any, today: date) -> bool:
        if type(answer) not in types:
            raise TypeError("answer of another type")
        return bool(answer == expected)

    return test, None


def _in(operand: object) -> Built:
    codes = _codes(operand)
    types = frozenset().union(*(_types_like(code) for code in codes))

    def test(answer: Any, today: date) -> bool:
        if type(answer) not in types:
            raise TypeError("answer of another type")
        return answer in codes

    return test, None


def _any_of(operand: object) -> Built:
    codes = _codes(operand)
    types = frozenset().union(*(_types_like(code) for code in codes))

    def test(answer: Any, today: date) -> bool:
        chosen = answer if type(answer) is list else [answer]
        for code in chosen:
            if type(code) not in types:
                raise TypeError("answer of another type")
        return not codes.isdisjoint(chosen)

    return test, None


def _compare(check: Callable[[float, float], bool]) -> Callable[[object], Built]:
    def build(operand: object) -> Built:
        bound = _number(operand)
        return (lambda answer, today: check(_numeric_answer(answer), bound)), None

    return build


def _within_days(operand: object) -> Built:
    span = timedelta(days=_count(operand))
    # A date after today still counts as recent: unclear answers restrict, never free.
    return (lambda answer, today: answer_date(answer) >= today - span), None


def _within_months(operand: object) -> Built:
    months = _count(operand)
    return (
        lambda answer, today: answer_date(answer) >= months_before(today, months)
    ), None


def _answered(operand: object) -> Built:
    if not isinstance(operand, bool):
        raise OperandInvalid("needs true or false")
    return (lambda answer, today: operand), not operand


@dataclass(frozen=True)
class Operator:
    build: Callable[[object], Built]
    compares_codes: bool = False  # its operand holds answer codes (checked when known)


OPERATORS: Mapping[str, Operator] = {
    "equals": Operator(_equals, compares_codes=True),
    "in": Operator(_in, compares_codes=True),
    "any_of": Operator(_any_of, compares_codes=True),
    "gt": Operator(_compare(lambda answer, bound: answer > bound)),
    "gte": Operator(_compare(lambda answer, bound: answer >= bound)),
    "lt": Operator(_compare(lambda answer, bound: answer < bound)),
    "lte": Operator(_compare(lambda answer, bound: answer <= bound)),
    "within_days": Operator(_within_days),
    "within_months": Operator(_within_months),
    "answered": Operator(_answered),
}
COMBINATORS = ("all", "any", "not")


@dataclass
class Compiler:
    """Compiles condition dicts, collecting every problem instead of stopping."""

    errors: list[str]
    known_link_ids: Collection[str] | None = None
    known_options: Mapping[str, Collection[str]] | None = None

    def compile(self, spec: object, where: str) -> Node:
        if not isinstance(spec, Mapping):
            return self._fail(where, "a condition is a mapping")
        keys = set(spec)
        combinators = keys & set(COMBINATORS)
        if combinators:
            if len(keys) != 1:
                return self._fail(where, f"{sorted(keys)}: one combinator, alone")
            (name,) = combinators
            return self._combinator(name, spec[name], f"{where}.{name}")
        return self._leaf(spec, where)

    def _combinator(self, name: str, body: object, where: str) -> Node:
        if name == "not":
            return Negation(self.compile(body, where))
        if not isinstance(body, list):
            return self._fail(where, "needs a list of conditions")
        if name == "any" and not body:
            return self._fail(where, "needs at least one condition")
        children = [self.compile(c, f"{where}[{i}]") for i, c in enumerate(body)]
        return Conjunction(children) if name == "all" else Disjunction(children)

    def _leaf(self, spec: Mapping[Any, Any], where: str) -> Node:
        item = spec.get("item")
        operators = [key for key in spec if key != "item"]
        if not isinstance(item, str) or not item:
            return self._fail(where, "needs `item` (a linkId) or all/any/not")
        unknown = [key for key in operators if key not in OPERATORS]
        if unknown:
            known = ", ".join([*COMBINATORS, *OPERATORS])
            return self._fail(
                where, f"unknown operator {unknown[0]!r} (known: {known})"
            )
        if len(operators) != 1:
            return self._fail(where, f"item {item!r} needs exactly one operator")
        link_ids = self.known_link_ids
        if item != AGE and link_ids is not None and item not in link_ids:
            return self._fail(where, f"unknown item {item!r}")
        (name,) = operators
        operator = OPERATORS[name]
        try:
            test, on_missing = operator.build(spec[name])
        except OperandInvalid as error:
            return self._fail(f"{where}.{name}", str(error))
        if operator.compares_codes:
            self._check_codes(item, spec[name], f"{where}.{name}")
        return Leaf(item, name, spec[name], test, on_missing)

    def _check_codes(self, item: str, operand: object, where: str) -> None:
        options = (self.known_options or {}).get(item)
        if options is None:
            return
        values = operand if isinstance(operand, list) else [operand]
        for value in values:
            # YAML reads a bare `no` as false: any value that is not a code is an error.
            if not isinstance(value, str) or value not in options:
                self.errors.append(f"{where}: {value!r} is not an option of {item}")

    def _fail(self, where: str, message: str) -> Node:
        self.errors.append(f"{where}: {message}")
        return Conjunction(())

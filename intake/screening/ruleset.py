"""Rule sets: validate a parsed rule file once and compile it for fast evaluation.

`rule_set_load` either returns a complete `RuleSet` or raises `RuleSetInvalid` listing
every problem, each naming the rule id and field. The format is in docs/screening.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.dates import months_after
from intake.screening.conditions import (
    Answers,
    Compiler,
    Node,
    answer_date,
)
from intake.screening.results import LANGUAGES, Outcome, Text

SHIPPED_RULE_SET = Path(__file__).with_name("rules") / "clinic.yaml"

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_RULE_SET_KEYS = {"title", "treatments", "unanswered", "rules"}
_REQUIRED_RULE_SET_KEYS = {"treatments", "unanswered", "rules"}
_RULE_KEYS = {
    "id",
    "treatments",
    "when",
    "outcome",
    "defer",
    "until",
    "physician_decides",
    "reason",
    "patient",
    "source",
}
_REQUIRED_RULE_KEYS = {
    "id",
    "treatments",
    "when",
    "outcome",
    "reason",
    "patient",
    "source",
}
_RULE_OUTCOMES = {outcome.value for outcome in Outcome if outcome != Outcome.ELIGIBLE}


class RuleSetInvalid(ValueError):
    """A rule set that cannot be used; `messages` lists every problem found."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("invalid rule set:\n" + "\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Defer:
    """A deferral ending a fixed time after the date answered to item `after`."""

    after: str
    days: int = 0
    months: int = 0

    def reconsider_on(self, answers: Answers) -> date | None:
        """The date to offer the treatment again; None when `after` is unreadable."""
        try:
            start = answer_date(answers[self.after])
        except (KeyError, TypeError, ValueError):
            return None
        return months_after(start, self.months) + timedelta(days=self.days)


@dataclass(frozen=True)
class Rule:
    """One row of the clinic's table: when `when` holds, `outcome` for `treatments`."""

    id: str
    treatments: tuple[str, ...]
    when: Node
    outcome: Outcome
    reason: str
    patient: Text
    source: str
    defer: Defer | None = None
    until: Text | None = None
    # A refusal that is not the end of the conversation: the physician declines or,
    # once the prescriber or oncologist agrees, clears (SCREENING.md).
    physician_decides: bool = False

    @property
    def items(self) -> frozenset[str]:
        """The items (linkIds, or `age`) the condition reads."""
        return self.when.items()


@dataclass(frozen=True)
class RuleSet:
    """A validated, compiled rule set; rules keep the file's order."""

    treatments: tuple[str, ...]
    unanswered: Text
    rules: tuple[Rule, ...]
    title: str = ""


def rule_set_load(
    data: Mapping[str, Any],
    *,
    known_link_ids: Collection[str] | None = None,
    known_options: Mapping[str, Collection[str]] | None = None,
) -> RuleSet:
    """Validate and compile a parsed rule file, or raise RuleSetInvalid listing errors.

    With `known_link_ids`, conditions and deferrals may only read those items (and
    `age`); with `known_options`, codes compared against a choice item must be options.
    """
    errors: list[str] = []
    if not isinstance(data, Mapping):
        raise RuleSetInvalid(["the rule set is a mapping"])
    _check_keys(data, _RULE_SET_KEYS, _REQUIRED_RULE_SET_KEYS, "rule set", errors)
    treatments = _slugs(data.get("treatments"), "rule set: treatments", errors)
    unanswered = _text(data.get("unanswered"), "rule set: unanswered", errors)
    title = data.get("title", "")
    if not isinstance(title, str):
        errors.append("rule set: title: must be text")
    compiler = Compiler(errors, known_link_ids, known_options)
    raw_rules = data.get("rules")
    rules: list[Rule] = []
    if not isinstance(raw_rules, list):
        errors.append("rule set: rules: must be a list")
        raw_rules = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rules):
        rule = _rule(raw, index, set(treatments), compiler, known_link_ids)
        if rule is None:
            continue
        if rule.id in seen:
            errors.append(f"rule {rule.id}: id: used by an earlier rule")
        seen.add(rule.id)
        rules.append(rule)
    if errors or unanswered is None:
        raise RuleSetInvalid(errors)
    return RuleSet(
        treatments=tuple(treatments),
        unanswered=unanswered,
        rules=tuple(rules),
        title=title if isinstance(title, str) else "",
    )


def shipped_rule_set_path() -> Path:
    """The clinic's starting rule file, shipped with the code."""
    return SHIPPED_RULE_SET


def shipped_rule_set_data() -> dict[str, Any]:
    """The shipped rule file parsed into plain JSON-compatible data."""
    with SHIPPED_RULE_SET.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.safe_load(file)
    return data


def _rule(
    raw: object,
    index: int,
    treatments: set[str],
    compiler: Compiler,
    known_link_ids: Collection[str] | None,
) -> Rule | None:
    errors = compiler.errors
    if not isinstance(raw, Mapping):
        errors.append(f"rule #{index + 1}: must be a mapping")
        return None
    rule_id = raw.get("id")
    name = f"rule {rule_id}" if isinstance(rule_id, str) else f"rule #{index + 1}"
    count = len(errors)
    _check_keys(raw, _RULE_KEYS, _REQUIRED_RULE_KEYS, name, errors)
    if not isinstance(rule_id, str) or not _SLUG.match(rule_id):
        errors.append(f"{name}: id: needs a slug (a-z, 0-9, _)")
    rule_treatments = _slugs(raw.get("treatments"), f"{name}: treatments", errors)
    for code in rule_treatments:
        if code not in treatments:
            errors.append(f"{name}: treatments: {code!r} is not in the rule set")
    when = compiler.compile(raw.get("when"), f"{name}: when")
    outcome = raw.get("outcome")
    if outcome not in _RULE_OUTCOMES:
        errors.append(
            f"{name}: outcome: {outcome!r} is not one of {sorted(_RULE_OUTCOMES)}"
        )
    reason = _nonempty(raw.get("reason"), f"{name}: reason", errors)
    source = _nonempty(raw.get("source"), f"{name}: source", errors)
    patient = _text(raw.get("patient"), f"{name}: patient", errors)
    until = _text(raw["until"], f"{name}: until", errors) if "until" in raw else None
    defer = (
        _defer(raw["defer"], f"{name}: defer", errors, known_link_ids)
        if "defer" in raw
        else None
    )
    if outcome == Outcome.DEFERRED and "defer" not in raw and "until" not in raw:
        errors.append(f"{name}: defer: a deferred rule needs `defer` or `until`")
    physician_decides = raw.get("physician_decides", False)
    if not isinstance(physician_decides, bool):
        errors.append(f"{name}: physician_decides: needs true or false")
    elif physician_decides and outcome != Outcome.CONTRAINDICATED:
        errors.append(
            f"{name}: physician_decides: only a contraindicated rule can leave the "
            "decision to a physician"
        )
    if len(errors) > count or patient is None:
        return None
    return Rule(
        id=str(rule_id),
        treatments=tuple(rule_treatments),
        when=when,
        outcome=Outcome(str(outcome)),
        reason=reason,
        patient=patient,
        source=source,
        defer=defer,
        until=until,
        physician_decides=bool(physician_decides),
    )


def _defer(
    raw: object,
    where: str,
    errors: list[str],
    known_link_ids: Collection[str] | None,
) -> Defer | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: needs {{days: N, after: <date linkId>}}")
        return None
    count = len(errors)
    _check_keys(raw, {"after", "days", "months"}, {"after"}, where, errors)
    after = raw.get("after")
    if not isinstance(after, str) or not after:
        errors.append(f"{where}: after: needs the linkId of a date answer")
    elif known_link_ids is not None and after not in known_link_ids:
        errors.append(f"{where}: after: unknown item {after!r}")
    spans = [key for key in ("days", "months") if key in raw]
    if len(spans) != 1:
        errors.append(f"{where}: needs exactly one of `days` or `months`")
    for key in spans:
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append(f"{where}: {key}: needs a whole number of at least 1")
    if len(errors) > count:
        return None
    return Defer(after=str(after), days=raw.get("days", 0), months=raw.get("months", 0))


def _check_keys(
    raw: Mapping[Any, Any],
    allowed: set[str],
    required: set[str],
    where: str,
    errors: list[str],
) -> None:
    for key in raw:
        if key not in allowed:
            errors.append(f"{where}: {key}: unknown key (known: {sorted(allowed)})")
    for key in sorted(required - set(raw)):
        errors.append(f"{where}: {key}: missing")


def _slugs(raw: object, where: str, errors: list[str]) -> list[str]:
    if not isinstance(raw, list) or not raw:
        errors.append(f"{where}: needs a non-empty list of codes")
        return []
    codes = [code for code in raw if isinstance(code, str) and _SLUG.match(code)]
    if len(codes) != len(raw):
        errors.append(f"{where}: every entry is a code (a-z, 0-9, _)")
    if len(set(codes)) != len(codes):
        errors.append(f"{where}: a code is listed twice")
    return list(dict.fromkeys(codes))


def _text(raw: object, where: str, errors: list[str]) -> Text | None:
    if not isinstance(raw, Mapping):
        errors.append(f"{where}: needs a text per language ({', '.join(LANGUAGES)})")
        return None
    count = len(errors)
    _check_keys(raw, set(LANGUAGES), set(LANGUAGES), where, errors)
    for language in LANGUAGES:
        value = raw.get(language)
        if language in raw and (not isinstance(value, str) or not value.strip()):
            errors.append(f"{where}: {language}: must be non-empty text")
    if len(errors) > count:
        return None
    return Text(en=raw["en"].strip(), tr=raw["tr"].strip())


def _nonempty(raw: object, where: str, errors: list[str]) -> str:
    if raw is None:
        return ""  # reported as missing by _check_keys when required
    if not isinstance(raw, str) or not raw.strip():
        errors.append(f"{where}: must be non-empty text")
        return ""
    return raw.strip()

"""What an evaluation returns: frozen dataclasses with a JSON round trip.

`ScreeningResult.to_dict()` gives plain JSON values (dates as ISO strings) and
`screening_result_from_dict()` rebuilds an equal result: stored results render later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

RESULT_FORMAT = 1
LANGUAGES = ("en", "tr")

# A value as stored in evidence: answers are JSON scalars or lists of codes.
EvidenceValue = str | int | float | bool | tuple[str, ...]


class Outcome(StrEnum):
    """A rule's class; a treatment's outcome is one of them except `info`."""

    ELIGIBLE = "eligible"
    INFO = "info"
    REVIEW = "review"
    DEFERRED = "deferred"
    CONTRAINDICATED = "contraindicated"


# Least to most restrictive. A deferral outranks review: it blocks booking until a
# date or a condition has passed, even after a physician has cleared the patient.
OUTCOME_RANK: Mapping[Outcome, int] = {
    Outcome.ELIGIBLE: 0,
    Outcome.REVIEW: 1,
    Outcome.DEFERRED: 2,
    Outcome.CONTRAINDICATED: 3,
}


@dataclass(frozen=True)
class Text:
    """One sentence in every language the clinic serves."""

    en: str
    tr: str

    def get(self, language: str) -> str:
        """The text in `language`, English when the language is not served."""
        return self.tr if language == "tr" else self.en

    def to_dict(self) -> dict[str, str]:
        return {"en": self.en, "tr": self.tr}


@dataclass(frozen=True)
class FiredRule:
    """A rule that fired for a treatment, with the answers that made it fire.

    `missing` is non-empty exactly when the rule fired because questions it needs were
    unanswered; its outcome is then `review` whatever the rule's own class.
    """

    rule_id: str
    outcome: Outcome
    reason: str
    patient: Text
    until: Text | None
    source: str
    reconsider_on: date | None
    evidence: tuple[tuple[str, EvidenceValue], ...]
    missing: tuple[str, ...] = ()
    physician_decides: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "physician_decides": self.physician_decides,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "patient": self.patient.to_dict(),
            "until": self.until.to_dict() if self.until else None,
            "source": self.source,
            "reconsider_on": _iso(self.reconsider_on),
            "evidence": [[link_id, _jsonable(v)] for link_id, v in self.evidence],
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class TreatmentOutcome:
    """The most restrictive class that fired for one treatment (`info` never counts).

    `reconsider_on` is set only for `deferred`: the latest date among the fired
    deferrals when every one of them has a date; None means "until a condition passes".
    """

    outcome: Outcome
    fired: tuple[FiredRule, ...]
    reconsider_on: date | None = None

    @property
    def physician_decides(self) -> bool:
        """Contraindicated only by rules that leave the decision to a physician: it
        waits in the physician's queue as `review` does, and is never self-booked."""
        refusals = [r for r in self.fired if r.outcome is Outcome.CONTRAINDICATED]
        return (
            self.outcome is Outcome.CONTRAINDICATED
            and bool(refusals)
            and all(rule.physician_decides for rule in refusals)
        )

    @property
    def bookable_from(self) -> date | None:
        """The day a deferred treatment may be booked: its reconsider date, when
        the deferrals were all that kept it from being eligible (a review under
        them still needs a physician after the date)."""
        if self.outcome is not Outcome.DEFERRED or self.reconsider_on is None:
            return None
        if any(rule.outcome is Outcome.REVIEW for rule in self.fired):
            return None
        return self.reconsider_on

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "fired": [rule.to_dict() for rule in self.fired],
            "reconsider_on": _iso(self.reconsider_on),
        }


@dataclass(frozen=True)
class TriggerProfile:
    """Which redness triggers the answers point to; shapes advice, never eligibility."""

    weight_loss: bool
    weight_loss_kg_per_month: float | None
    glp1: bool
    bariatric: bool
    hormonal: tuple[str, ...]
    sun: str | None  # low | moderate | high; None when nothing about sun was answered
    lifestyle: tuple[str, ...]
    family_history: bool | None
    active: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "weight_loss": self.weight_loss,
            "weight_loss_kg_per_month": self.weight_loss_kg_per_month,
            "glp1": self.glp1,
            "bariatric": self.bariatric,
            "hormonal": list(self.hormonal),
            "sun": self.sun,
            "lifestyle": list(self.lifestyle),
            "family_history": self.family_history,
            "active": list(self.active),
        }


@dataclass(frozen=True)
class SensitivityProfile:
    """Skin type and whether a patch test is advised, with the staff-facing reasons."""

    fitzpatrick: int | None
    patch_test_advised: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitzpatrick": self.fitzpatrick,
            "patch_test_advised": self.patch_test_advised,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class ScreeningResult:
    """One evaluation: an outcome for every treatment in the rule set, and profiles."""

    evaluated_on: date
    treatments: dict[str, TreatmentOutcome]
    triggers: TriggerProfile
    sensitivity: SensitivityProfile

    def outcomes(self) -> dict[str, str]:
        """Treatment code -> outcome, the plain summary that routing filters on."""
        return {code: t.outcome.value for code, t in self.treatments.items()}

    def physician_decides(self) -> list[str]:
        """The treatments refused only by rules on which a physician decides."""
        return [code for code, t in self.treatments.items() if t.physician_decides]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": RESULT_FORMAT,
            "evaluated_on": self.evaluated_on.isoformat(),
            "treatments": {code: t.to_dict() for code, t in self.treatments.items()},
            "triggers": self.triggers.to_dict(),
            "sensitivity": self.sensitivity.to_dict(),
        }


def outcomes_effective(
    outcomes: Mapping[str, str],
    *,
    physician_decides: Iterable[str],
    decisions: Iterable[tuple[str, bool]] = (),
) -> dict[str, str]:
    """Outcome per treatment after physician decisions on this result.

    `decisions` are (treatment, cleared) pairs, newest first: the newest one per
    treatment wins. A refusal on which a physician decides is review until one has.
    """
    effective = dict(outcomes)
    for treatment in physician_decides:
        effective[treatment] = Outcome.REVIEW
    decided: set[str] = set()
    for treatment, cleared in decisions:
        if treatment in decided:
            continue
        decided.add(treatment)
        effective[treatment] = Outcome.ELIGIBLE if cleared else Outcome.CONTRAINDICATED
    return effective


def bookable_from_effective(
    bookable_from: Mapping[str, str], *, effective: Mapping[str, str]
) -> dict[str, date]:
    """A stored result's deferral end dates (treatment -> ISO date), kept for the
    treatments whose effective outcome is still that deferral (a physician's
    decline ends it)."""
    return {
        treatment: date.fromisoformat(day)
        for treatment, day in bookable_from.items()
        if effective.get(treatment) == Outcome.DEFERRED
    }


def screening_result_from_dict(data: Mapping[str, Any]) -> ScreeningResult:
    """Rebuild a result from `ScreeningResult.to_dict()` output (after a JSON trip).

    Raises ValueError for a format this code does not know.
    """
    if data.get("format") != RESULT_FORMAT:
        raise ValueError(f"unknown screening result format: {data.get('format')!r}")
    triggers = data["triggers"]
    sensitivity = data["sensitivity"]
    return ScreeningResult(
        evaluated_on=date.fromisoformat(data["evaluated_on"]),
        treatments={
            code: _treatment_from_dict(t) for code, t in data["treatments"].items()
        },
        triggers=TriggerProfile(
            weight_loss=bool(triggers["weight_loss"]),
            weight_loss_kg_per_month=triggers["weight_loss_kg_per_month"],
            glp1=bool(triggers["glp1"]),
            bariatric=bool(triggers["bariatric"]),
            hormonal=tuple(triggers["hormonal"]),
            sun=triggers["sun"],
            lifestyle=tuple(triggers["lifestyle"]),
            family_history=triggers["family_history"],
            active=tuple(triggers["active"]),
        ),
        sensitivity=SensitivityProfile(
            fitzpatrick=sensitivity["fitzpatrick"],
            patch_test_advised=bool(sensitivity["patch_test_advised"]),
            reasons=tuple(sensitivity["reasons"]),
        ),
    )


def evidence_value(value: Any) -> EvidenceValue:
    """An answer frozen for evidence: lists become tuples so results stay immutable."""
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    if isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _treatment_from_dict(data: Mapping[str, Any]) -> TreatmentOutcome:
    return TreatmentOutcome(
        outcome=Outcome(data["outcome"]),
        fired=tuple(_fired_from_dict(rule) for rule in data["fired"]),
        reconsider_on=_date_or_none(data["reconsider_on"]),
    )


def _fired_from_dict(data: Mapping[str, Any]) -> FiredRule:
    until = data["until"]
    return FiredRule(
        rule_id=data["rule_id"],
        outcome=Outcome(data["outcome"]),
        reason=data["reason"],
        patient=Text(**data["patient"]),
        until=Text(**until) if until else None,
        source=data["source"],
        reconsider_on=_date_or_none(data["reconsider_on"]),
        evidence=tuple(
            (link_id, evidence_value(value)) for link_id, value in data["evidence"]
        ),
        missing=tuple(data.get("missing", ())),
        physician_decides=bool(data.get("physician_decides", False)),
    )


def _jsonable(value: EvidenceValue) -> str | int | float | bool | list[str]:
    return list(value) if isinstance(value, tuple) else value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None

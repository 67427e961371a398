"""Screening state: rule-set versions, stored results, physician overrides."""

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from core.errors import BusinessError
from intake.encryption import health_data_decrypt, health_data_encrypt
from intake.hooks import ScreeningChanged, screening_changed
from intake.models import (
    HealthDataAccess,
    ScreeningOverride,
    ScreeningResult,
    ScreeningRuleSet,
    ScreeningRuleSetVersion,
    Submission,
    VersionStatus,
)
from intake.screening import Outcome, evaluate
from intake.screening.results import bookable_from_effective, outcomes_effective
from intake.selectors.questionnaires import (
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.selectors.screening import (
    SHIPPED_RULE_SET,
    rule_set_compile_for,
    rule_set_get_compiled,
    screening_rule_set_version_get_published,
)
from intake.services.versions import (
    Imported,
    VersionNotDraft,
    version_draft_copy,
    version_import,
    version_publish,
)


class TreatmentUnknown(BusinessError):
    code = "treatment_unknown"


class NotScreened(BusinessError):
    code = "not_screened"


class DeferralNotClearable(BusinessError):
    code = "deferral_not_clearable"


def rule_set_definition_import(
    *, data: Mapping[str, Any], slug: str = SHIPPED_RULE_SET
) -> tuple[ScreeningRuleSetVersion, Imported]:
    """Load a shipped rule file (see version_import: idempotent, and an admin's
    published version is never replaced without review)."""
    _rule_set_check(data)
    rule_set, _created = ScreeningRuleSet.objects.get_or_create(slug=slug)
    return version_import(
        ScreeningRuleSetVersion, parent_field="rule_set", parent=rule_set, data=data
    )


def rule_set_version_publish(*, version_id: int) -> ScreeningRuleSetVersion:
    """Check and publish a draft; stored results keep pointing at their own version."""
    _rule_set_check(ScreeningRuleSetVersion.objects.get(pk=version_id).definition)
    return version_publish(
        ScreeningRuleSetVersion, version_id=version_id, parent_field="rule_set"
    )


def _rule_set_check(data: Mapping[str, Any]) -> None:
    """Rules to publish may only read questions and options the questionnaire has."""
    rule_set_compile_for(
        data, questionnaire_definition_get(questionnaire_version_get_published())
    )


def rule_set_version_rules_replace(
    *, version_id: int, rules: list[dict[str, Any]]
) -> ScreeningRuleSetVersion:
    """Save edited rules into a draft, checked as a whole; a published one refuses."""
    with transaction.atomic():
        version = ScreeningRuleSetVersion.objects.select_for_update().get(pk=version_id)
        if version.status != VersionStatus.DRAFT:
            raise VersionNotDraft(
                f"{version} is {version.status}: copy it into a draft."
            )
        definition = {**version.definition, "rules": rules}
        _rule_set_check(definition)
        version.definition = definition
        version.save(update_fields=["definition"])
    return version


def rule_set_version_draft_create(*, from_version_id: int) -> ScreeningRuleSetVersion:
    """Changing rules starts here: a draft copy of an existing version."""
    return version_draft_copy(
        ScreeningRuleSetVersion,
        from_version_id=from_version_id,
        parent_field="rule_set",
    )


def screening_result_record(
    *,
    submission: Submission,
    answers: Mapping[str, Any],
    today: dt.date,
    first: bool = False,
) -> ScreeningResult | None:
    """Evaluate answers against the published rules and store the result as current
    (`first`: the submission was just stored, so no earlier result is current).

    Call inside the transaction that stores the submission. With no published rule
    set nothing is stored, and every treatment reads as needing review.
    """
    version = screening_rule_set_version_get_published()
    if version is None:
        return None
    result = evaluate(
        answers,
        rule_set_get_compiled(version),
        today=today,
        birth_date=submission.birth_date,
    )
    if not first:
        ScreeningResult.objects.filter(submission=submission, is_current=True).update(
            is_current=False
        )
    return ScreeningResult.objects.create(
        submission=submission,
        rule_set_version=version,
        evaluated_on=today,
        outcomes={code: item.outcome for code, item in result.treatments.items()},
        physician_decides=result.physician_decides(),
        bookable_from={
            code: day.isoformat()
            for code, item in result.treatments.items()
            if (day := item.bookable_from) is not None
        },
        detail_ciphertext=health_data_encrypt(result.to_dict()),
    )


def screening_reevaluate(*, submission_id: int) -> ScreeningResult | None:
    """Evaluate a stored submission again, on purpose, against today's published rules.

    The earlier result is kept (no longer current) so it can still be explained.
    """
    with transaction.atomic():
        submission = Submission.objects.select_for_update().get(pk=submission_id)
        answers = health_data_decrypt(submission.health_answers_ciphertext)
        result = screening_result_record(
            submission=submission, answers=answers, today=timezone.localdate()
        )
        if result is not None:
            # Decisions on the earlier result do not carry over.
            screening_changed.announce(_changed(submission_id, result))
        return result


@dataclass(frozen=True)
class DryRunChange:
    """One treatment of one submission whose outcome a draft would change."""

    submission_code: str
    treatment: str
    current: str
    proposed: str


def rule_set_dry_run(
    *, version_id: int, user: User, limit: int = 5000
) -> tuple[int, list[DryRunChange]]:
    """Which stored outcomes a rule-set version would change; changes no outcome.

    Compares each submission's current result with an evaluation under `version`
    on the same evaluation date. Returns (submissions checked, changes); `user` is
    audited as having read the outcomes of each submission shown.
    """
    rules = rule_set_get_compiled(ScreeningRuleSetVersion.objects.get(pk=version_id))
    results = (
        ScreeningResult.objects.filter(is_current=True)
        .select_related("submission")
        .order_by("-submission__submitted_at")[:limit]
    )
    changes: list[DryRunChange] = []
    shown: dict[int, Submission] = {}
    checked = 0
    for stored in results:
        checked += 1
        submission = stored.submission
        answers = health_data_decrypt(submission.health_answers_ciphertext)
        proposed = evaluate(
            answers, rules, today=stored.evaluated_on, birth_date=submission.birth_date
        )
        for code, outcome in proposed.treatments.items():
            current = stored.outcomes.get(code, "none")
            if current != outcome.outcome:
                changes.append(
                    DryRunChange(str(submission.code), code, current, outcome.outcome)
                )
                shown[submission.pk] = submission
    HealthDataAccess.objects.bulk_create(
        HealthDataAccess(
            submission=submission,
            submission_code=submission.code,
            user=user,
            what=HealthDataAccess.What.DRY_RUN,
        )
        for submission in shown.values()
    )
    return checked, changes


def screening_override_record(
    *,
    submission_id: int,
    treatment: str,
    decision: str,
    note: str,
    physician: User,
) -> ScreeningOverride:
    """A physician clears or declines one treatment of the current result.

    The newest decision wins, and every decision is kept beside the rule outcome it
    overrides. A deferral cannot be cleared: it ends on its date or condition.
    """
    if decision not in ScreeningOverride.Decision.values:
        raise BusinessError(
            "Say whether the treatment is cleared or declined.",
            fields={"decision": ["Choose cleared or declined."]},
        )
    submission = Submission.objects.get(pk=submission_id)
    current = submission.screening_results.filter(is_current=True).first()
    if current is None:
        raise NotScreened(
            "This submission has no screening result to decide on; re-evaluate it."
        )
    if treatment not in current.outcomes:
        raise TreatmentUnknown(
            f"“{treatment}” is not a treatment of this screening.",
            fields={"treatment": [f"Choose one of: {', '.join(current.outcomes)}."]},
        )
    cleared = decision == ScreeningOverride.Decision.CLEARED
    if cleared and current.outcomes[treatment] == Outcome.DEFERRED:
        raise DeferralNotClearable(
            "A deferral ends on its date or once its condition has passed; it cannot "
            "be cleared early.",
            fields={"decision": ["Decline it, or wait for the deferral to end."]},
        )
    if not note.strip():
        raise BusinessError(
            "A note is required.", fields={"note": ["Say why, for the record."]}
        )
    # The decision and what it changes for the apps above commit together.
    with transaction.atomic():
        override = ScreeningOverride.objects.create(
            submission=submission,
            screening_result=current,
            treatment=treatment,
            decision=decision,
            note=note.strip(),
            decided_by=physician,
        )
        decisions = current.overrides.order_by("-decided_at", "-id").values_list(
            "treatment", "decision"
        )
        screening_changed.announce(
            _changed(
                submission_id,
                current,
                decisions=[
                    (code, made == ScreeningOverride.Decision.CLEARED)
                    for code, made in decisions
                ],
            )
        )
    return override


def _changed(
    submission_id: int,
    result: ScreeningResult,
    *,
    decisions: Iterable[tuple[str, bool]] = (),
) -> ScreeningChanged:
    """What the apps above learn of `result` after `decisions` (newest first)."""
    effective = outcomes_effective(
        result.outcomes, physician_decides=result.physician_decides, decisions=decisions
    )
    return ScreeningChanged(
        submission_id=submission_id,
        outcomes=effective,
        bookable_from=bookable_from_effective(
            result.bookable_from, effective=effective
        ),
    )

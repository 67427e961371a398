"""Questionnaire versions: import the shipped file, publish, copy into a draft."""

from collections.abc import Mapping
from typing import Any

from core.errors import BusinessError
from intake.models import Questionnaire, QuestionnaireVersion
from intake.questionnaires.definition import (
    Definition,
    DefinitionInvalid,
    definition_load,
    essential_item_problems,
)
from intake.selectors.screening import (
    RuleSetRejected,
    rule_set_compile_for,
    screening_rule_set_version_get_published,
)
from intake.services.versions import (
    Imported,
    version_draft_copy,
    version_import,
    version_publish,
)


class QuestionnaireRejected(BusinessError):
    code = "questionnaire_invalid"


def questionnaire_check(
    data: Mapping[str, Any], *, rules: Mapping[str, Any] | None = None
) -> Definition:
    """A definition fit to publish, or QuestionnaireRejected naming each problem.

    Beyond its own validity: the items the service relies on are there, and the
    screening rules (`rules`, else the published ones) read only what it asks.
    """
    try:
        definition = definition_load(data)
    except DefinitionInvalid as error:
        raise QuestionnaireRejected(
            "The questionnaire has problems: " + "; ".join(error.messages),
            fields={"definition": error.messages},
        ) from error
    problems = essential_item_problems(definition)
    if problems:
        raise QuestionnaireRejected(
            "The questionnaire has problems: " + "; ".join(problems),
            fields={"definition": problems},
        )
    if rules is None:
        published = screening_rule_set_version_get_published()
        rules = published.definition if published else None
    if rules is not None:
        try:
            rule_set_compile_for(rules, definition)
        except RuleSetRejected as error:
            raise QuestionnaireRejected(
                "The screening rules read questions or options this questionnaire "
                "no longer has: " + "; ".join(error.fields.get("definition", [])),
                fields=error.fields,
            ) from error
    return definition


def questionnaire_definition_import(
    *, data: Mapping[str, Any], rules: Mapping[str, Any] | None = None
) -> tuple[QuestionnaireVersion, Imported]:
    """Load a shipped questionnaire file (see version_import: idempotent, and an
    admin's published version is never replaced without review)."""
    definition = questionnaire_check(data, rules=rules)
    questionnaire, _created = Questionnaire.objects.get_or_create(slug=definition.slug)
    return version_import(
        QuestionnaireVersion,
        parent_field="questionnaire",
        parent=questionnaire,
        data=data,
    )


def questionnaire_version_publish(*, version_id: int) -> QuestionnaireVersion:
    """Check and publish a draft version; the previously published one retires."""
    questionnaire_check(QuestionnaireVersion.objects.get(pk=version_id).definition)
    return version_publish(
        QuestionnaireVersion, version_id=version_id, parent_field="questionnaire"
    )


def questionnaire_version_draft_create(*, from_version_id: int) -> QuestionnaireVersion:
    """Editing a questionnaire starts here: a draft copy of an existing version."""
    return version_draft_copy(
        QuestionnaireVersion,
        from_version_id=from_version_id,
        parent_field="questionnaire",
    )

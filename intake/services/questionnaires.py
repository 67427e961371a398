"""Questionnaire versions: import the shipped file, publish, copy into a draft."""

from collections.abc import Mapping
from typing import Any

from intake.models import Questionnaire, QuestionnaireVersion
from intake.questionnaires.definition import definition_load
from intake.services.versions import (
    Imported,
    version_draft_copy,
    version_import,
    version_publish,
)


def questionnaire_definition_import(
    *, data: Mapping[str, Any]
) -> tuple[QuestionnaireVersion, Imported]:
    """Load a shipped questionnaire file (see version_import: idempotent, and an
    admin's published version is never replaced without review)."""
    definition = definition_load(data)
    questionnaire, _created = Questionnaire.objects.get_or_create(slug=definition.slug)
    return version_import(
        QuestionnaireVersion,
        parent_field="questionnaire",
        parent=questionnaire,
        data=data,
    )


def questionnaire_version_publish(*, version_id: int) -> QuestionnaireVersion:
    """Check and publish a draft version; the previously published one retires."""
    definition_load(QuestionnaireVersion.objects.get(pk=version_id).definition)
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

"""Questionnaire and rule-set versions: published content never changes."""

import copy
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.test import Client
from rest_framework.test import APIClient

from intake.models import (
    HealthDataAccess,
    PublishedVersionImmutable,
    QuestionnaireVersion,
    ScreeningResult,
    ScreeningRuleSetVersion,
    Submission,
)
from intake.screening import shipped_rule_set_data
from intake.selectors.screening import RuleSetRejected
from intake.services.questionnaires import (
    QuestionnaireRejected,
    questionnaire_definition_import,
    questionnaire_version_draft_create,
    questionnaire_version_publish,
)
from intake.services.screening import (
    rule_set_definition_import,
    rule_set_dry_run,
    rule_set_version_draft_create,
    rule_set_version_publish,
)
from intake.services.versions import VersionNotDraft
from tests.support.answers import complete_answers


@pytest.mark.django_db
def test_a_published_questionnaire_version_cannot_be_edited(
    published: QuestionnaireVersion,
) -> None:
    published.definition["title"]["en"] = "Changed"

    with pytest.raises(PublishedVersionImmutable):
        published.save()

    published.refresh_from_db()
    assert published.definition["title"]["en"] != "Changed"


@pytest.mark.django_db
def test_editing_starts_a_new_draft_and_publishing_it_retires_the_old(
    published: QuestionnaireVersion,
) -> None:
    draft = questionnaire_version_draft_create(from_version_id=published.pk)
    draft.definition["title"]["en"] = "A new title"
    draft.save()

    questionnaire_version_publish(version_id=draft.pk)

    published.refresh_from_db()
    draft.refresh_from_db()
    assert (published.status, draft.status) == ("retired", "published")
    assert draft.number == published.number + 1
    with pytest.raises(VersionNotDraft):
        questionnaire_version_publish(version_id=draft.pk)


@pytest.mark.django_db
def test_loading_the_shipped_files_again_changes_nothing(
    published: QuestionnaireVersion,
) -> None:
    version, imported = questionnaire_definition_import(data=published.definition)

    assert (version, imported) == (published, "unchanged")
    assert QuestionnaireVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_submission_still_renders_after_a_newer_version_changes_the_questions(
    published: QuestionnaireVersion, api_client: APIClient, clinic_staff: object
) -> None:
    code = api_client.post(
        "/api/v1/submissions", {"answers": complete_answers()}, format="json"
    ).json()["id"]
    newer = copy.deepcopy(published.definition)
    newer["item"][0]["item"] = [
        item for item in newer["item"][0]["item"] if item["linkId"] != "severity"
    ]
    questionnaire_definition_import(data=newer)

    api_client.force_authenticate(clinic_staff)  # type: ignore[arg-type]
    export = api_client.get(f"/api/v1/submissions/{code}/fhir").json()

    concern = export["item"][0]
    assert "severity" in [item["linkId"] for item in concern["item"]]
    assert Submission.objects.get().questionnaire_version == published


@pytest.mark.django_db
def test_a_new_rule_set_version_leaves_stored_results_unchanged_and_explainable(
    published: QuestionnaireVersion, api_client: APIClient
) -> None:
    api_client.post(
        "/api/v1/submissions",
        {"answers": complete_answers(blood_thinners=["apixaban"])},
        format="json",
    )
    before = ScreeningResult.objects.get()
    old_version = before.rule_set_version
    changed = copy.deepcopy(shipped_rule_set_data())
    for rule in changed["rules"]:
        if "mesotherapy" in rule["treatments"] and rule["outcome"] == "review":
            rule["outcome"] = "contraindicated"

    rule_set_definition_import(data=changed)

    after = ScreeningResult.objects.get()
    assert after.rule_set_version == old_version
    assert after.outcomes == before.outcomes
    assert after.outcomes["mesotherapy"] == "review"
    assert after.detail_ciphertext == before.detail_ciphertext
    old_version.refresh_from_db()
    assert old_version.status == "retired"


@pytest.mark.django_db
def test_a_dry_run_lists_the_outcomes_a_draft_would_change_and_writes_nothing(
    published: QuestionnaireVersion, api_client: APIClient, clinic_staff: User
) -> None:
    api_client.post(
        "/api/v1/submissions",
        {"answers": complete_answers(blood_thinners=["apixaban"])},
        format="json",
    )
    current = ScreeningRuleSetVersion.objects.get(status="published")
    draft = rule_set_version_draft_create(from_version_id=current.pk)
    for rule in draft.definition["rules"]:
        if "mesotherapy" in rule["treatments"] and rule["outcome"] == "review":
            rule["outcome"] = "contraindicated"
    draft.save()

    checked, changes = rule_set_dry_run(version_id=draft.pk, user=clinic_staff)

    assert checked == 1
    assert [(c.treatment, c.current, c.proposed) for c in changes] == [
        ("mesotherapy", "review", "contraindicated")
    ]
    assert ScreeningResult.objects.count() == 1
    assert HealthDataAccess.objects.get().what == "dry_run"
    rule_set_version_publish(version_id=draft.pk)
    assert ScreeningResult.objects.get().outcomes["mesotherapy"] == "review"


@pytest.mark.django_db
def test_a_submission_page_session_survives_a_new_version(
    published: QuestionnaireVersion, client: Client
) -> None:
    """A person mid-questionnaire keeps answering the version they started."""
    client.post("/en/consultation/", {"consent_health": "on"})
    newer = copy.deepcopy(published.definition)
    newer["title"]["en"] = "Newer"
    questionnaire_definition_import(data=newer)

    response = client.get("/en/consultation/step/1/")

    assert response.status_code == 200


@pytest.mark.django_db
def test_rules_reading_a_question_the_questionnaire_lacks_are_not_published(
    published: QuestionnaireVersion,
) -> None:
    current = ScreeningRuleSetVersion.objects.get(status="published")
    draft = rule_set_version_draft_create(from_version_id=current.pk)
    draft.definition["rules"][0]["when"] = {"item": "blod_thinners", "equals": "x"}
    draft.save()

    with pytest.raises(RuleSetRejected, match="blod_thinners"):
        rule_set_version_publish(version_id=draft.pk)

    draft.refresh_from_db()
    assert draft.status == "draft"


@pytest.mark.django_db
def test_the_database_itself_refuses_a_bulk_change_to_a_published_version(
    published: QuestionnaireVersion,
) -> None:
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        QuestionnaireVersion.objects.filter(pk=published.pk).update(definition={})

    QuestionnaireVersion.objects.filter(pk=published.pk).update(status="retired")
    published.refresh_from_db()
    assert published.status == "retired"
    assert published.definition["slug"] == "redness-intake"


@pytest.mark.django_db
def test_loading_a_changed_file_never_replaces_rules_an_admin_published(
    published: QuestionnaireVersion,
) -> None:
    shipped = ScreeningRuleSetVersion.objects.get(status="published")
    edited = rule_set_version_draft_create(from_version_id=shipped.pk)
    rule_set_version_publish(version_id=edited.pk)
    changed = copy.deepcopy(shipped_rule_set_data())
    changed["title"] = "A developer's update"

    again, unchanged = rule_set_definition_import(data=shipped_rule_set_data())
    draft, imported = rule_set_definition_import(data=changed)

    assert (again, unchanged) == (shipped, "unchanged")
    assert (draft.status, imported) == ("draft", "drafted")
    assert ScreeningRuleSetVersion.objects.get(status="published") == edited


def _item(definition: dict[str, Any], link_id: str) -> dict[str, Any]:
    for step in definition["item"]:
        for item in step["item"]:
            if item["linkId"] == link_id:
                found: dict[str, Any] = item
                return found
    raise KeyError(link_id)


@pytest.mark.django_db
def test_a_questionnaire_with_optional_health_consent_cannot_be_published(
    published: QuestionnaireVersion,
) -> None:
    draft = questionnaire_version_draft_create(from_version_id=published.pk)
    _item(draft.definition, "consent_health")["required"] = False
    draft.save()

    with pytest.raises(QuestionnaireRejected, match="consent_health"):
        questionnaire_version_publish(version_id=draft.pk)


@pytest.mark.django_db
def test_renaming_an_option_the_rules_read_is_refused_at_publishing(
    published: QuestionnaireVersion,
) -> None:
    draft = questionnaire_version_draft_create(from_version_id=published.pk)
    for option in _item(draft.definition, "blood_thinners")["answerOption"]:
        if option["code"] == "warfarin":
            option["code"] = "coumadin"
    draft.save()

    with pytest.raises(QuestionnaireRejected, match="warfarin"):
        questionnaire_version_publish(version_id=draft.pk)
    draft.refresh_from_db()
    assert draft.status == "draft"

"""Reads of the questionnaire: the published version, its parsed definition, the
locations a patient can choose, and answers told in the questionnaire's words."""

from typing import Any

from clinics.models import Location
from clinics.selectors import clinic_branding_get
from core.config_cache import config_cached
from core.errors import BusinessError
from intake.models import QuestionnaireVersion, VersionStatus
from intake.questionnaires.definition import Definition, definition_load
from intake.validators import localised

SHIPPED_QUESTIONNAIRE = "redness-intake"


class QuestionnaireUnavailable(BusinessError):
    code = "questionnaire_unavailable"
    status_code = 404


def questionnaire_version_get_published(
    *, slug: str = SHIPPED_QUESTIONNAIRE
) -> QuestionnaireVersion:
    """The version new answers go to; QuestionnaireUnavailable if none is published."""
    version = config_cached(
        ("questionnaire", slug),
        lambda: (
            QuestionnaireVersion.objects.select_related("questionnaire")
            .filter(questionnaire__slug=slug, status=VersionStatus.PUBLISHED)
            .first()
        ),
    )
    if version is None:
        raise QuestionnaireUnavailable(
            f"No published version of the questionnaire “{slug}”."
        )
    return version


# Parsed definitions of published and retired versions, whose content never changes.
_frozen_definitions: dict[int, Definition] = {}


def questionnaire_definition_get(version: QuestionnaireVersion) -> Definition:
    """The parsed definition of a version (cached once it can no longer change)."""
    if version.status == VersionStatus.DRAFT:
        return definition_load(version.definition)
    definition = _frozen_definitions.get(version.pk)
    if definition is None:
        definition = _frozen_definitions[version.pk] = definition_load(
            version.definition
        )
    return definition


def location_list_active() -> list[Location]:
    """Locations a patient can choose, by name."""
    return config_cached(
        "active locations",
        lambda: list(Location.objects.filter(is_active=True).order_by("name")),
    )


def question_in_words(definition: Definition, link_id: str) -> str:
    """A question's text in English (staff read English), or its linkId if unknown."""
    try:
        return definition.item(link_id).text.en
    except KeyError:
        return link_id


def answer_in_words(definition: Definition, link_id: str, value: Any) -> str:
    """ "Question: answer" with option codes shown as the options' English text."""
    try:
        item = definition.item(link_id)
    except KeyError:
        return f"{link_id}: {value}"
    displays = {option.code: option.display.en for option in item.options}
    values = value if isinstance(value, list | tuple) else [value]
    words = [
        "yes" if one is True else "no" if one is False else displays.get(one, str(one))
        for one in values
    ]
    return f"{item.text.en}: {', '.join(words)}"


def answers_in_words(
    definition: Definition, answers: dict[str, Any]
) -> tuple[str, ...]:
    """Every given answer as "Question: answer", in the questionnaire's order (keys
    it does not know last, sorted); unanswered (None) ones left out."""
    ordered = [item.link_id for item in definition.items() if item.link_id in answers]
    ordered += sorted(set(answers) - set(ordered))
    return tuple(
        answer_in_words(definition, link_id, answers[link_id])
        for link_id in ordered
        if answers[link_id] is not None
    )


def treatment_name(code: str) -> str:
    """A treatment's name in the active language, as the published questionnaire
    offers it; the code in words when it offers no such treatment."""
    return option_name("treatments_wanted", code)


def treatment_names(*, short: bool = False) -> dict[str, str]:
    """Every treatment's name in the active language, by code: for a page that
    names many (one query, however many); `short`: without the explanation in
    brackets the patient reads ("Vitamin K mesotherapy"). Empty before a
    questionnaire is published (the page shows codes)."""
    try:
        version = questionnaire_version_get_published()
    except QuestionnaireUnavailable:
        return {}
    definition = questionnaire_definition_get(version)
    names = {
        option.code: localised(option.display)
        for option in definition.item("treatments_wanted").options
    }
    if short:
        return {code: name.split(" (")[0] for code, name in names.items()}
    return names


def option_name(link_id: str, code: str) -> str:
    """An option of a (non-health) question in the active language, as the
    published questionnaire words it (a contact channel, a time of day); the code
    in words when it has no such option."""
    definition = questionnaire_definition_get(questionnaire_version_get_published())
    option = definition.item(link_id).option(code)
    return localised(option.display) if option else code.replace("_", " ")


def treatment_options() -> list[tuple[str, str]]:
    """(code, English name) of each treatment the published questionnaire offers,
    "not sure" left out: what an appointment type may serve."""
    definition = questionnaire_definition_get(questionnaire_version_get_published())
    return [
        (option.code, option.display.en)
        for option in definition.item("treatments_wanted").options
        if option.code != "not_sure"
    ]


def privacy_notice_version(definition: Definition) -> str:
    """The version a consent is given under: the questionnaire's notice, and the
    clinic's own text when it has one ("2026-11-01+clinic-2026-12-01")."""
    clinic_version = clinic_branding_get().privacy_notice_version
    if not clinic_version:
        return definition.privacy_notice_version
    return f"{definition.privacy_notice_version}+clinic-{clinic_version}"

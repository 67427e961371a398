import pytest
from django.utils import timezone, translation

from intake.models import QuestionnaireVersion
from intake.selectors.questionnaires import questionnaire_definition_get
from intake.validators import answers_clean
from tests.support.answers import complete_answers

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Please type this answer again: it holds a character we cannot save."),
        (
            "tr",
            "Lütfen bu yanıtı yeniden yazın: kaydedemediğimiz bir karakter içeriyor.",
        ),
    ],
)
def test_an_answer_holding_nul_or_a_lone_surrogate_is_asked_for_again(
    published: QuestionnaireVersion, language: str, message: str
) -> None:
    answers = complete_answers(
        full_name="Ayşe\x00Yılmaz", contact_times=["morning", "\ud800"]
    )

    with translation.override(language):
        result = answers_clean(
            questionnaire_definition_get(published),
            answers,
            location_codes=["nisantasi"],
            today=timezone.localdate(),
        )

    assert result.errors == {"full_name": [message], "contact_times": [message]}
    assert "full_name" not in result.values

"""Answers to the shipped questionnaire, as a person would give them."""

from typing import Any

from tests.support.screening_contract import baseline_answers


def contact_answers(**overrides: Any) -> dict[str, Any]:
    """The "About you" step, answered; consent to health data given."""
    return {
        "full_name": "Ayşe Yılmaz",
        "birth_date": "1988-05-14",
        "email": "ayse.yilmaz@example.com",
        "phone": "0532 123 45 67",
        "preferred_language": "tr",
        "location": "nisantasi",
        "contact_channel": "whatsapp",
        "contact_times": ["morning", "evening"],
        "consent_health": True,
        "consent_marketing": False,
        **overrides,
    }


def complete_answers(**overrides: Any) -> dict[str, Any]:
    """Every question of the shipped questionnaire, low risk, with contact details."""
    answers = {**baseline_answers(), **contact_answers()}
    for link_id, value in overrides.items():
        if value is None:
            answers.pop(link_id, None)
        else:
            answers[link_id] = value
    return answers

"""Walk the patient form with Django's test client, as a browser would post it."""

from typing import Any

from django.test import Client

from intake.forms import step_questions
from intake.questionnaires.definition import definition_load_shipped

DEFINITION = definition_load_shipped()
STEPS = DEFINITION.steps


def step_data(number: int, answers: dict[str, Any]) -> dict[str, Any]:
    """What a browser posts for step `number` given these answers."""
    data: dict[str, Any] = {"action": "next"}
    for item in step_questions(STEPS[number - 1]):
        if item.link_id not in answers:
            continue
        value = answers[item.link_id]
        if item.type == "boolean" and not item.link_id.startswith("consent_"):
            value = "yes" if value else "no"
        elif item.link_id.startswith("consent_"):
            if not value:
                continue
            value = "on"
        data[item.link_id] = value
    return data


def save_data(
    email: str, answers: dict[str, Any] | None = None, number: int = 1
) -> dict[str, Any]:
    """What a browser posts for "Save and finish later" on step `number`."""
    page = step_data(number, answers) if answers else {}
    return {**page, "action": "save", "resume_email": email}


def start(client: Client, language: str = "en") -> None:
    response = client.post(f"/{language}/consultation/", {"consent_health": "on"})
    assert response.status_code == 302


def fill_until_last(
    client: Client, answers: dict[str, Any], language: str = "en"
) -> str:
    """Consent and answer every step but the last; returns the last step's address."""
    start(client, language)
    for number in range(1, len(STEPS)):
        response = client.post(
            f"/{language}/consultation/step/{number}/", step_data(number, answers)
        )
        assert response.status_code == 302, response.content.decode()[:3000]
    return f"/{language}/consultation/step/{len(STEPS)}/"


def fill_all(client: Client, answers: dict[str, Any], language: str = "en") -> Any:
    last = fill_until_last(client, answers, language)
    response = client.post(last, step_data(len(STEPS), answers))
    assert response.status_code == 302, response.content.decode()[:3000]
    return response

"""Demo questionnaires for `make run`: a queue a coordinator can work on at once.

Each person answers every question the safe way (the "none" option, "no", the first
choice), then says what is theirs: a trigger, a medicine, an age. They go through
submission_create like any other questionnaire, so their leads, screening and
follow-ups are real. Only where DEMO_DATA_ALLOWED; a second load adds nothing.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.errors import BusinessError
from intake.questionnaires.definition import Definition, Item
from intake.selectors.questionnaires import (
    questionnaire_definition_get,
    questionnaire_version_get_published,
)
from intake.services.submissions import submission_create

# Name, language, location, age, what is their own.
DEMO_PEOPLE: tuple[tuple[str, str, str, int, dict[str, Any]], ...] = (
    ("Ayşe Yılmaz", "tr", "nisantasi", 34, {"sun_hours_per_day": "over_3"}),
    ("Mehmet Demir", "tr", "nisantasi", 58, {"blood_thinners": ["warfarin"]}),
    ("Emily Clarke", "en", "nisantasi", 41, {"weight_loss": True}),
    ("Zeynep Kaya", "tr", "nisantasi", 16, {}),
    ("Can Öztürk", "tr", "nisantasi", 29, {"isotretinoin": True}),
    ("Selin Arslan", "tr", "nisantasi", 47, {"pregnancy_status": "pregnant"}),
    ("Lena Schmidt", "en", "berlin", 38, {"sunscreen": "rarely"}),
    ("Jonas Weber", "en", "berlin", 52, {"allergies": ["vitamin_k"]}),
)


def demo_submissions_load() -> int:
    """Send the demo people's questionnaires once; how many were new."""
    if not settings.DEMO_DATA_ALLOWED:
        raise BusinessError(
            "Demo data is only for development settings.", code="demo_not_allowed"
        )
    version = questionnaire_version_get_published()
    definition = questionnaire_definition_get(version)
    today = timezone.localdate()
    made = 0
    for number, (name, language, location, age, own) in enumerate(DEMO_PEOPLE):
        first = name.split()[0].lower().translate(str.maketrans("çğıöşü", "cgiosu"))
        answers = {
            **_safe_answers(definition, today=today),
            **own,
            "full_name": name,
            "birth_date": today.replace(year=today.year - age, day=1).isoformat(),
            "email": f"{first}@example.com",
            "phone": f"+90 532 000 00 {10 + number:02d}",
            "preferred_language": language,
            "location": location,
            "contact_channel": ("phone", "whatsapp", "email")[number % 3],
            "contact_times": ["morning"],
            "consent_health": True,
        }
        outcome = submission_create(
            version=version,
            language=language,
            answers=answers,
            idempotency_key=f"demo:{number}",
            source={"utm_source": ("instagram", "google", "referral")[number % 3]},
        )
        made += outcome.created
    return made


def _safe_answers(definition: Definition, *, today: dt.date) -> dict[str, Any]:
    """Every question answered as someone with nothing to report would."""
    return {
        item.link_id: answer
        for item in definition.items()
        if (answer := _safe(item, today=today)) is not None
    }


def _safe(item: Item, *, today: dt.date) -> Any:
    if item.type == "choice" and item.options:
        exclusive = [o.code for o in item.options if o.exclusive]
        code = exclusive[0] if exclusive else item.options[0].code
        return [code] if item.repeats else code
    if item.type == "boolean":
        return False
    if item.type in {"integer", "decimal"}:
        return item.min_value if item.min_value is not None else 1
    if item.type == "date":
        return (today - dt.timedelta(days=400)).isoformat()
    return None  # text, photos, and choices from a value set (the location)

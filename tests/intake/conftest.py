from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from pytest_django.fixtures import Settings as SettingsWrapper

from clinics.models import Location, StaffMember
from tests.factories import StaffMemberFactory
from tests.intake.screening.contract import baseline_answers


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: SettingsWrapper) -> Iterator[None]:
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


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


@pytest.fixture
def clinic_staff(location: Location) -> User:
    """A physician of `location` (where complete_answers() sends the questionnaire),
    with the permission to read submissions."""
    member = StaffMemberFactory.create(
        role=StaffMember.Role.PHYSICIAN, locations=[location]
    )
    member.user.user_permissions.add(Permission.objects.get(codename="view_submission"))
    user: User = member.user
    return user

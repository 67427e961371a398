from collections.abc import Iterator

import pytest
from django.contrib.auth.models import Permission, User
from django.core.cache import cache
from pytest_django.fixtures import Settings as SettingsWrapper

from clinics.models import Location, StaffMember
from tests.support.factories import StaffMemberFactory


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: SettingsWrapper) -> Iterator[None]:
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


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

import pytest
from django.contrib.auth.models import Permission, User

from clinics.models import Location, StaffMember
from tests.support.factories import StaffMemberFactory


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

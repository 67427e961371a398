"""The leads admin: assignment rules edited by the clinic; leads shown by location."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client

from clinics.models import Location, StaffMember
from leads.models import AssignmentRule
from tests.support.factories import LeadFactory, LocationFactory, StaffMemberFactory


@pytest.fixture
def kadikoy(db: None) -> Location:
    return LocationFactory.create(slug="kadikoy", name="Kadıköy")


def _signed_in(member: StaffMember) -> Client:
    member.user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["clinics", "leads"],
            codename__startswith="view_",
        )
    )
    client = Client()
    client.force_login(member.user)
    return client


def test_a_coordinator_sees_only_the_leads_of_their_locations_in_the_admin(
    location: Location, kadikoy: Location
) -> None:
    mine = LeadFactory.create(location=location, full_name="Ayşe Yılmaz")
    theirs = LeadFactory.create(location=kadikoy, full_name="Elif Demir")
    client = _signed_in(StaffMemberFactory.create(locations=[location]))

    listing = client.get("/admin/leads/lead/")
    other = client.get(f"/admin/leads/lead/{theirs.pk}/change/")
    own = client.get(f"/admin/leads/lead/{mine.pk}/change/")

    assert listing.status_code == 200
    assert "Ayşe Yılmaz" in listing.text
    assert "Elif Demir" not in listing.text
    assert other.status_code == 302  # the admin's "does not exist" redirect
    assert own.status_code == 200


def test_a_clinic_admin_sees_every_location_and_edits_assignment_rules(
    location: Location, kadikoy: Location
) -> None:
    LeadFactory.create(location=kadikoy, full_name="Elif Demir")
    member = StaffMemberFactory.create(role=StaffMember.Role.CLINIC_ADMIN)
    member.user.is_superuser = True
    member.user.save()
    client = _signed_in(member)
    coordinator = StaffMemberFactory.create(locations=[location])

    listing = client.get("/admin/leads/lead/")
    created = client.post(
        "/admin/leads/assignmentrule/add/",
        {
            "name": "Turkish speakers",
            "position": 10,
            "is_active": "on",
            "location": location.pk,
            "language": "tr",
            "treatment": "",
            "strategy": "least_loaded",
            "coordinators": [coordinator.pk],
        },
    )

    assert "Elif Demir" in listing.text
    assert created.status_code == 302
    rule = AssignmentRule.objects.get(name="Turkish speakers")
    assert list(rule.coordinators.all()) == [coordinator]


def test_opening_hours_that_cannot_count_a_deadline_are_refused_with_a_reason(
    location: Location,
) -> None:
    location.opening_hours = {"monday": [["09:00", "18:00"]]}

    with pytest.raises(ValidationError) as refused:
        location.full_clean()

    assert "unknown weekdays" in str(refused.value.message_dict["opening_hours"])

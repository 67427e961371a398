import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory, override_settings

from clinics.models import Location, Practitioner, StaffMember
from leads.models import AssignmentRule

pytestmark = pytest.mark.django_db


def test_demo_clinic_has_two_locations_two_practitioners_and_working_logins() -> None:
    call_command("load_demo_clinic")

    zones = dict(Location.objects.values_list("slug", "time_zone"))
    assert zones == {"nisantasi": "Europe/Istanbul", "berlin": "Europe/Berlin"}
    assert Practitioner.objects.count() == 2
    roles = set(StaffMember.objects.values_list("role", flat=True))
    assert {"coordinator", "physician"} <= roles
    sign_in = RequestFactory().post(
        "/staff/sign-in/"
    )  # the lock-out counts per request
    for username in ("coordinator", "physician"):
        password = f"demo-{username}"
        assert authenticate(sign_in, username=username, password=password) is not None


def test_loading_the_demo_clinic_twice_changes_nothing_the_second_time() -> None:
    call_command("load_demo_clinic")
    call_command("load_demo_clinic")

    assert Location.objects.count() == 2
    assert Practitioner.objects.count() == 2
    assert StaffMember.objects.count() == 3


@override_settings(DEMO_DATA_ALLOWED=False)
def test_production_settings_refuse_to_load_demo_logins() -> None:
    with pytest.raises(CommandError, match="only for development"):
        call_command("load_demo_clinic")

    assert not StaffMember.objects.exists()


def test_demo_leads_go_to_the_demo_coordinator() -> None:
    call_command("load_demo_clinic")
    call_command("load_demo_clinic")

    rule = AssignmentRule.objects.get()
    assert [m.user.username for m in rule.coordinators.all()] == ["coordinator"]
    assert StaffMember.objects.get(user__username="coordinator").is_lead_coordinator

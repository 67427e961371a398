"""Follow-ups in the admin: a template's preview from a sample person, for the
clinic's admins only, under its own strict policy; addresses stopped by hand;
enrollments per location, stopped by staff."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from clinics.models import Location
from followups.models import Enrollment, MessageTemplate, Suppression
from intake.models import QuestionnaireVersion
from leads.selectors import lead_email_key
from tests.support.factories import LocationFactory, StaffMemberFactory
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


def test_the_html_preview_shows_the_sample_person_and_runs_nothing(
    client: Client,
) -> None:
    template = MessageTemplate.objects.get(key="acknowledgment", language="en")
    client.force_login(User.objects.create_superuser("boss", "b@clinic.example", "pw"))

    page = client.get(f"/admin/followups/messagetemplate/{template.pk}/change/")
    preview = client.get(f"/admin/followups/messagetemplate/{template.pk}/preview/")

    assert f'src="/admin/followups/messagetemplate/{template.pk}/preview/"' in (
        page.content.decode()
    )
    assert preview.status_code == 200
    assert "Dear Ayşe Yılmaz," in preview.content.decode()
    assert preview["Content-Security-Policy"].startswith("default-src 'none'")
    assert preview["X-Frame-Options"] == "SAMEORIGIN"


def test_a_coordinator_cannot_open_a_templates_preview(client: Client) -> None:
    template = MessageTemplate.objects.get(key="acknowledgment", language="en")
    coordinator = StaffMemberFactory.create().user
    coordinator.is_staff = True
    coordinator.save()
    client.force_login(coordinator)

    preview = client.get(f"/admin/followups/messagetemplate/{template.pk}/preview/")
    missing = client.get("/admin/followups/messagetemplate/999999/preview/")

    assert preview.status_code in {403, 404}
    assert missing.status_code in {403, 404}
    assert "Dear" not in preview.content.decode()


def test_a_clinic_admin_stops_an_address_typed_as_the_person_gave_it(
    client: Client,
) -> None:
    client.force_login(User.objects.create_superuser("boss", "b@clinic.example", "pw"))

    added = client.post(
        "/admin/followups/suppression/add/",
        {
            "email": " Ayse.Yilmaz@Example.COM ",
            "scope": "all",
            "reason": "unsubscribed",
        },
    )

    assert added.status_code == 302, added.content.decode()[:2000]
    assert Suppression.objects.get().email_key == lead_email_key(
        "ayse.yilmaz@example.com"
    )


def test_enrollments_are_listed_per_location_and_staff_can_stop_one(
    client: Client, published: QuestionnaireVersion, location: Location
) -> None:
    lead = lead_of(submit(published))
    other = LocationFactory.create(slug="kadikoy")
    Enrollment.objects.filter(lead=lead).exclude(
        sequence__name="Reminders while not booked"
    ).delete()
    coordinator = StaffMemberFactory.create(locations=[location]).user
    elsewhere = StaffMemberFactory.create(locations=[other]).user
    for user in (coordinator, elsewhere):
        user.is_staff = True
        user.save()
        user.user_permissions.add(
            *Permission.objects.filter(codename="view_enrollment")
        )
    enrollment = Enrollment.objects.get()

    row = f"/admin/followups/enrollment/{enrollment.pk}/change/"

    client.force_login(elsewhere)
    assert row not in client.get("/admin/followups/enrollment/").content.decode()
    client.force_login(coordinator)
    assert row in client.get("/admin/followups/enrollment/").content.decode()
    client.post(
        "/admin/followups/enrollment/",
        {"action": "stop", "_selected_action": [enrollment.pk]},
    )

    enrollment.refresh_from_db()
    assert enrollment.stopped_because == "stopped by staff"
    assert enrollment.next_due_at is None

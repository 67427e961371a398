"""The templates in the admin: a preview of the HTML part from a sample person,
for the clinic's admins only, under its own strict policy."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from followups.models import MessageTemplate
from tests.support.factories import StaffMemberFactory

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

"""The clinic's branding, set in the admin: a logo upload re-encoded, colours checked,
one row only, and what patient pages then serve."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from clinics.models import ClinicBranding

pytestmark = pytest.mark.django_db


def _admin(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("boss", "b@clinic.example", "pw"))
    return client


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1600, 400), "#a23b52").save(out, format="PNG")
    return out.getvalue()


def _form(**changes: object) -> dict[str, object]:
    return {
        "name": "Klinik Işık",
        "colour_accent": "#0b5d66",
        "colour_ink": "#1f2430",
        "retention_months": "24",
        "staff_idle_minutes": "30",
        "staff_session_hours": "10",
        **changes,
    }


def test_the_logo_is_re_encoded_and_served_with_the_colours(client: Client) -> None:
    admin = _admin(client)
    upload = SimpleUploadedFile("logo.png", _png(), content_type="image/png")

    saved = admin.post("/admin/clinics/clinicbranding/add/", _form(logo_upload=upload))

    assert saved.status_code == 302, saved.content.decode()[:2000]
    branding = ClinicBranding.objects.get()
    with Image.open(io.BytesIO(bytes(branding.logo))) as logo:
        assert logo.format == "PNG"
        assert max(logo.size) == 800  # made smaller, not kept as sent
    page = Client().get("/en/").content.decode()
    assert 'class="brand-logo"' in page
    assert 'alt="Klinik Işık"' in page
    css_path = page.split('href="/branding/', 1)[1].split('"', 1)[0]
    css = Client().get(f"/branding/{css_path}")
    assert css["Content-Type"].startswith("text/css")
    assert "--accent: #0b5d66" in css.content.decode()
    logo_path = page.split('src="/branding/logo/', 1)[1].split('"', 1)[0]
    served = Client().get(f"/branding/logo/{logo_path}")
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"


def test_an_svg_or_a_broken_logo_and_a_bad_colour_are_refused_by_field(
    client: Client,
) -> None:
    svg = SimpleUploadedFile(
        "logo.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml"
    )

    refused = _admin(client).post(
        "/admin/clinics/clinicbranding/add/",
        _form(logo_upload=svg, colour_accent="red;}{x"),
    )

    body = refused.content.decode()
    assert refused.status_code == 200
    assert "Please upload a PNG, JPEG or WebP image." in body
    assert "Use a colour such as #a23b52" in body
    assert not ClinicBranding.objects.exists()


def test_there_is_one_branding_and_it_cannot_be_deleted(client: Client) -> None:
    admin = _admin(client)
    branding = ClinicBranding.objects.create(name="Klinik Işık")

    assert admin.get("/admin/clinics/clinicbranding/add/").status_code == 403
    delete = f"/admin/clinics/clinicbranding/{branding.pk}/delete/"
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    assert ClinicBranding.objects.exists()


def test_without_a_logo_the_name_is_shown_and_the_logo_address_is_not_found() -> None:
    page = Client().get("/en/").content.decode()

    assert "brand-logo" not in page
    assert Client().get("/branding/logo/x").status_code == 404

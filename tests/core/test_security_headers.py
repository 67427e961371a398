import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/en/", "/tr/", "/admin/login/", "/api/docs/"])
def test_pages_allow_scripts_styles_and_fonts_from_this_server_only(
    client: Client, path: str
) -> None:
    response = client.get(path)

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_start_page_references_no_other_host(client: Client) -> None:
    page = client.get("/en/").content.decode()

    assert "http://" not in page
    assert "https://" not in page


def test_the_api_docs_page_has_no_inline_script(client: Client) -> None:
    page = client.get("/api/docs/").content.decode()

    assert "<script>" not in page
    assert "/static/drf_spectacular_sidecar/" in page

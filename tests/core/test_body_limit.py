"""A body larger than REQUEST_BODY_MAX_BYTES is refused by its announced length,
before a byte of it is read: a 120 MB upload costs the server nothing."""

import io
import json
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from core.security import SecurityHeadersMiddleware

pytestmark = pytest.mark.django_db
HUNDRED_TWENTY_MB = 120 * 1024 * 1024


class Body(io.RawIOBase):
    """A request body that counts the reads of it (and has nothing to give)."""

    def __init__(self) -> None:
        self.reads = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: object) -> int:
        self.reads += 1
        return 0


def _post(path: str, length: int, body: Body) -> HttpResponse:
    environ: dict[str, Any] = {"CONTENT_LENGTH": str(length), "wsgi.input": body}
    client: Any = Client()
    response: HttpResponse = client.generic(
        "POST", path, content_type="multipart/form-data; boundary=x", **environ
    )
    return response


def test_a_huge_upload_to_the_form_gets_a_page_that_says_what_to_do() -> None:
    body = Body()
    response = _post("/en/consultation/step/8/", HUNDRED_TWENTY_MB, body)

    assert response.status_code == 413
    page = response.content.decode()
    assert "larger than 32 MB" in page
    assert "Photos can be up to 10 MB each" in page
    assert body.reads == 0


def test_a_huge_body_to_the_api_gets_the_error_shape() -> None:
    body = Body()
    response = _post("/api/v1/submissions", HUNDRED_TWENTY_MB, body)

    assert response.status_code == 413
    assert json.loads(response.content)["code"] == "body_too_large"
    assert body.reads == 0


def test_three_photos_of_ten_megabytes_and_the_fields_go_on_to_the_view() -> None:
    body = Body()
    environ: dict[str, Any] = {
        "CONTENT_LENGTH": str(31 * 1024 * 1024),
        "wsgi.input": body,
    }
    factory: Any = RequestFactory()
    request = factory.generic("POST", "/en/consultation/step/8/", **environ)

    def view(request: HttpRequest) -> HttpResponse:
        request.read(100)
        return HttpResponse("read")

    response = SecurityHeadersMiddleware(view)(request)

    assert response.content == b"read"
    assert body.reads > 0

import uuid
from typing import Any

import pytest
from django.test import Client
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from core.errors import BusinessError


class _ContactSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField()
    phone = serializers.CharField(max_length=5)


class _ContactApi(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = _ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["phone"] == "00000":
            raise BusinessError(
                "That number is blocked.",
                code="phone_blocked",
                fields={"phone": ["Blocked."]},
            )
        return Response(status=204)


def _post(data: dict[str, str]) -> Response:
    request = APIRequestFactory().post("/contact", data, format="json")
    response: Response = _ContactApi.as_view()(request)
    return response


def test_invalid_fields_answer_400_with_a_message_per_field_under_the_sent_names() -> (
    None
):
    response = _post({"email": "not-an-email", "phone": "123456"})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert set(response.data["fields"]) == {"email", "phone"}
    assert response.data["fields"]["email"] == ["Enter a valid email address."]


def test_a_business_error_answers_with_its_code_and_fields() -> None:
    response = _post({"email": "a@b.example", "phone": "00000"})

    assert response.status_code == 400
    assert response.data == {
        "message": "That number is blocked.",
        "code": "phone_blocked",
        "fields": {"phone": ["Blocked."]},
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/nope", "/api/v1/ops/worker-checks/not-a-uuid"]
)
def test_unknown_api_paths_answer_404_in_the_error_shape(
    client: Client, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "message": "Not found.",
        "code": "not_found",
        "fields": {},
    }


@pytest.mark.django_db
def test_unknown_pages_answer_a_friendly_404_page(client: Client) -> None:
    response = client.get("/en/no-such-page/")

    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.django_db
def test_a_crash_in_the_api_answers_500_in_the_error_shape_without_details(
    client: Client, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(**_: Any) -> None:
        raise RuntimeError("secret detail: ayse@example.com")

    monkeypatch.setattr("core.selectors.worker_check_get", crash)
    client.raise_request_exception = False
    client.force_login(staff_user)

    response = client.get(f"/api/v1/ops/worker-checks/{uuid.uuid4()}")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "ayse@example.com" not in response.content.decode()


@pytest.mark.django_db
def test_the_openapi_schema_is_served_and_names_the_api(api_client: Any) -> None:
    response = api_client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    assert b"/api/v1/ops/worker-checks" in response.content

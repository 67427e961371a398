from typing import Any

import pytest
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
def test_unknown_api_paths_still_answer_in_the_error_shape_for_authenticated_users(
    api_client: Any, staff_user: Any
) -> None:
    api_client.force_authenticate(staff_user)

    response = api_client.get("/api/v1/ops/worker-checks/not-a-uuid")

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_openapi_schema_is_served_and_names_the_api(api_client: Any) -> None:
    response = api_client.get(
        "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
    )

    assert response.status_code == 200
    assert b"/api/v1/ops/worker-checks" in response.content

"""Staff API for operations: start a worker round trip and read its result."""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import selectors, services
from core.error_responses import ERROR_RESPONSE, error_response

NOT_ADMIN = error_response("Only a staff login (is_staff) may check the worker.")


class WorkerCheckOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(source="code")
    requested_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    worker = serializers.CharField()
    round_trip_ms = serializers.FloatField(allow_null=True)


class WorkerCheckCreateApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None, responses={202: WorkerCheckOutputSerializer, 403: NOT_ADMIN}
    )
    def post(self, request: Request) -> Response:
        check = services.worker_check_request(requested_by=request.user)
        return Response(
            WorkerCheckOutputSerializer(check).data, status=status.HTTP_202_ACCEPTED
        )


class WorkerCheckDetailApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses={
            200: WorkerCheckOutputSerializer,
            403: NOT_ADMIN,
            404: ERROR_RESPONSE,
        }
    )
    def get(self, request: Request, code: str) -> Response:
        check = selectors.worker_check_get(code=code)
        if check is None:
            raise NotFound("No such worker check.")
        return Response(WorkerCheckOutputSerializer(check).data)

"""A physician's decisions on a lead: clear or decline one treatment of its newest
submission, or have its answers evaluated again under today's rules.

Only a physician (by StaffMember role; a superuser is not one): IsPhysician is
checked once the lead is found, so another location's lead is a 404 first.
"""

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.permissions import IsPhysician, IsStaffMember
from core.serializers import TextField
from leads.api.common import ERROR, NOT_VISIBLE, lead_visible_get, request_user
from leads.api.lead import LeadDetailOutputSerializer, lead_detail_response
from leads.services.review import lead_review_decide, lead_screening_reevaluate


class LeadDecisionInputSerializer(serializers.Serializer[Any]):
    treatment = TextField(max_length=40)
    decision = serializers.ChoiceField(choices=["cleared", "declined"])
    note = TextField(max_length=2000)


class LeadDecisionCreateApi(APIView):
    """A physician clears or declines one treatment of the lead's newest submission."""

    permission_classes = [IsStaffMember, IsPhysician]

    @extend_schema(
        operation_id="lead_decision_create",
        request=LeadDecisionInputSerializer,
        responses={
            200: LeadDetailOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        self.check_object_permissions(request, lead)
        data = LeadDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_review_decide(
            lead=lead, physician=request_user(request), **data.validated_data
        )
        return lead_detail_response(request, code)


class LeadScreeningReevaluateApi(APIView):
    """A physician has the lead's newest answers evaluated again under today's
    published rules; the lead's treatments follow."""

    permission_classes = [IsStaffMember, IsPhysician]

    @extend_schema(
        operation_id="lead_screening_reevaluate",
        request=None,
        responses={200: LeadDetailOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        self.check_object_permissions(request, lead)
        lead_screening_reevaluate(lead=lead, physician=request_user(request))
        return lead_detail_response(request, code)

"""What staff do to a lead: move it along the pipeline, give it to someone, add a
note, log a call, fold a duplicate into it. Each answers the lead page afresh.

Bodies keep their JSON types (core.serializers): 0 is not the text "0", nor "5"
the id 5.
"""

import uuid
from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.permissions import IsStaffMember
from core.errors import BusinessError
from core.serializers import CodeField, TextField, UserIdField
from leads.api.common import ERROR, NOT_VISIBLE, lead_visible_get, request_user
from leads.api.lead import (
    LeadDetailOutputSerializer,
    LeadEventOutputSerializer,
    lead_detail_response,
)
from leads.models import Lead
from leads.selectors import lead_list_for_user
from leads.services.assignment import lead_assign
from leads.services.merge import lead_merge
from leads.services.timeline import (
    CallOutcome,
    lead_call_log,
    lead_note_add,
    lead_transition,
)

# What an action answers besides 200 and the lead page.
ACTION_ERRORS = {400: ERROR, 403: ERROR, 404: NOT_VISIBLE, 409: ERROR}


class LeadNotFound(BusinessError):
    code = "not_found"
    status_code = 404


# The status enum is named once, for `status`; here it is spelt out inline.
@extend_schema_field({"type": "string", "enum": Lead.Status.values})
class StatusChoiceField(serializers.ChoiceField):
    pass


class LeadTransitionInputSerializer(serializers.Serializer[Any]):
    to_status = StatusChoiceField(choices=Lead.Status.choices)
    lost_reason = serializers.ChoiceField(
        choices=Lead.LostReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when to_status is `lost`.",
    )
    note = TextField(required=False, allow_blank=True, default="", max_length=5000)


class LeadAssignInputSerializer(serializers.Serializer[Any]):
    owner = UserIdField(
        queryset=User.objects.filter(is_active=True),
        allow_null=True,
        help_text="A coordinator of the lead's location, or null for the "
        "unassigned queue.",
    )


class LeadNoteInputSerializer(serializers.Serializer[Any]):
    text = TextField(max_length=5000)


class LeadCallInputSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=list(CallOutcome.ALL))
    summary = TextField(required=False, allow_blank=True, default="", max_length=5000)


class LeadMergeInputSerializer(serializers.Serializer[Any]):
    duplicate = CodeField(help_text="The code of the lead to fold into this one.")


class LeadTransitionApi(APIView):
    """Move the lead along the pipeline; a move it does not allow answers 400
    `transition_not_allowed` with the statuses it may go to."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_transition",
        request=LeadTransitionInputSerializer,
        responses={200: LeadDetailOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        data = LeadTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_transition(lead=lead, actor=request_user(request), **data.validated_data)
        return lead_detail_response(request, code)


class LeadAssignApi(APIView):
    """Give the lead to a coordinator of its location, or back to the unassigned
    queue. Lead coordinators and clinic admins reassign any lead; a coordinator may
    take an unassigned lead (lead_assign decides, 403 otherwise)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_assign",
        request=LeadAssignInputSerializer,
        responses={200: LeadDetailOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        data = LeadAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_assign(
            lead=lead, owner=data.validated_data["owner"], actor=request_user(request)
        )
        return lead_detail_response(request, code)


class LeadNoteCreateApi(APIView):
    """Add a note to the lead's timeline."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_note_create",
        request=LeadNoteInputSerializer,
        responses={201: LeadEventOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        data = LeadNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = lead_note_add(
            lead=lead, text=data.validated_data["text"], actor=request_user(request)
        )
        return Response(
            LeadEventOutputSerializer(event).data, status=status.HTTP_201_CREATED
        )


class LeadCallCreateApi(APIView):
    """Log a call; any call meets the first-contact deadline."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_call_create",
        request=LeadCallInputSerializer,
        responses={201: LeadEventOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        data = LeadCallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = lead_call_log(
            lead=lead, actor=request_user(request), **data.validated_data
        )
        return Response(
            LeadEventOutputSerializer(event).data, status=status.HTTP_201_CREATED
        )


class LeadMergeApi(APIView):
    """Fold a duplicate lead into this one; you must see both (else 404)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_merge",
        request=LeadMergeInputSerializer,
        responses={200: LeadDetailOutputSerializer, **ACTION_ERRORS},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        data = LeadMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        duplicate = (
            lead_list_for_user(user=request.user)
            .filter(code=data.validated_data["duplicate"])
            .first()
        )
        if duplicate is None:
            raise LeadNotFound("No such lead.", fields={"duplicate": ["No such lead."]})
        lead_merge(lead=lead, duplicate=duplicate, actor=request_user(request))
        return lead_detail_response(request, code)

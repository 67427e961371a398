"""One lead: its page (contact, pipeline, score and why, submissions, open tasks)
and its timeline. Neither shows health answers (leads.api.health does, audited)."""

import uuid
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.permissions import IsStaffMember
from core.serializers import QueryParamsSerializer
from leads.api.common import (
    ERROR,
    NOT_VISIBLE,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    UserOutputSerializer,
    lead_visible_get,
)
from leads.api.pagination import CursorField, keyset_page
from leads.api.queue import LeadListItemOutputSerializer
from leads.models import LeadEvent
from leads.selectors import lead_event_list, lead_get_for_user


class ScorePartOutputSerializer(serializers.Serializer[Any]):
    factor = serializers.CharField()
    points = serializers.IntegerField()
    most = serializers.IntegerField(
        default=0, help_text="The most points this part can give."
    )
    detail = serializers.CharField(
        allow_blank=True,
        help_text="Why, in words; empty for parts drawn from health answers "
        "(read those through the lead's health endpoint).",
    )


class SubmissionRefOutputSerializer(serializers.Serializer[Any]):
    code = serializers.UUIDField(source="submission.code")
    submitted_at = serializers.DateTimeField(source="submission.submitted_at")


class LeadTaskOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_at = serializers.DateTimeField()
    assignee = UserOutputSerializer(allow_null=True)


class LeadDetailOutputSerializer(LeadListItemOutputSerializer):
    preferred_language = serializers.CharField()
    status_changed_at = serializers.DateTimeField()
    lost_reason = serializers.CharField(
        help_text="Why a lost lead was lost; empty otherwise."
    )
    score_parts = ScorePartOutputSerializer(many=True)
    escalation = serializers.IntegerField(
        help_text="0 on time, 1 owner reminded, 2 lead coordinator, 3 clinic admin."
    )
    last_submitted_at = serializers.DateTimeField()
    submissions = SubmissionRefOutputSerializer(many=True, source="submission_events")
    open_tasks = LeadTaskOutputSerializer(many=True)
    merged_into = serializers.UUIDField(
        source="merged_into.code",
        allow_null=True,
        help_text="Set when this lead was merged into another: open that one.",
    )
    match_uncertain_with = serializers.UUIDField(
        source="match_uncertain_with.code", allow_null=True
    )


class TimelineInputSerializer(QueryParamsSerializer):
    cursor = CursorField(required=False)
    page_size = serializers.IntegerField(
        required=False,
        default=PAGE_SIZE_DEFAULT,
        min_value=1,
        max_value=PAGE_SIZE_MAX,
    )


class LeadEventOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=LeadEvent.Kind.choices)
    actor = UserOutputSerializer(allow_null=True)
    text = serializers.CharField(help_text="A note or call summary a person wrote.")
    # Declared fields leave the class: `data` the property stays (as with `source`).
    data = serializers.JSONField(  # type: ignore[assignment]
        help_text="Codes, e.g. {'from': 'new', 'to': 'contacted'}."
    )
    submission = serializers.UUIDField(source="submission.code", allow_null=True)
    created_at = serializers.DateTimeField()


class LeadTimelineOutputSerializer(serializers.Serializer[Any]):
    results = LeadEventOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True)


def lead_detail_response(request: Request, code: uuid.UUID) -> Response:
    """The lead page's body, read afresh (after an action, what it now is)."""
    lead = lead_get_for_user(user=request.user, code=code)
    if lead is None:
        raise NotFound("No such lead.")
    context = {"now": timezone.now()}
    return Response(LeadDetailOutputSerializer(lead, context=context).data)


class LeadDetailApi(APIView):
    """One lead: contact, pipeline, score and why, submissions, open tasks.

    A merged lead answers too, with `merged_into` set to the lead it joined.
    """

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_detail",
        responses={200: LeadDetailOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        return lead_detail_response(request, code)


class LeadTimelineApi(APIView):
    """The lead's timeline, newest first, a page at a time."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_timeline",
        parameters=[TimelineInputSerializer],
        responses={
            200: LeadTimelineOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
        },
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        params = TimelineInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        page = keyset_page(
            lead_event_list(lead=lead),
            name="timeline",
            field="created_at",
            descending=True,
            cursor=params.validated_data.get("cursor"),
            page_size=params.validated_data["page_size"],
        )
        body = {"results": page.rows, "next": page.next_url(request)}
        return Response(LeadTimelineOutputSerializer(body).data)

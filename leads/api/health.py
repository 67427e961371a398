"""A lead's health answers: each of its submissions' answers in words and their
screening explained, read through intake's health door (physicians and clinic
admins; one audit row per submission)."""

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.permissions import IsStaffMember
from intake.api.serializers import OverrideSerializer, TreatmentExplanationSerializer
from intake.services.health import submission_health_read_many
from leads.api.common import ERROR, NOT_VISIBLE, lead_visible_get
from leads.selectors import lead_submission_ids


class ScreeningOutputSerializer(serializers.Serializer[Any]):
    rule_set_version = serializers.CharField(allow_null=True)
    evaluated_on = serializers.DateField(allow_null=True)
    effective_outcomes = serializers.DictField(child=serializers.CharField())
    explanations = TreatmentExplanationSerializer(many=True)
    overrides = OverrideSerializer(many=True)


class SubmissionHealthOutputSerializer(serializers.Serializer[Any]):
    code = serializers.UUIDField()
    submitted_at = serializers.DateTimeField()
    answers = serializers.ListField(
        child=serializers.CharField(),
        help_text="“Question: answer”, in the questionnaire's English words.",
    )
    screening = ScreeningOutputSerializer()


class LeadHealthOutputSerializer(serializers.Serializer[Any]):
    lead = serializers.UUIDField()
    submissions = SubmissionHealthOutputSerializer(many=True)


class LeadHealthApi(APIView):
    """The health answers of each of the lead's submissions, in words, and their
    screening explained. Physicians and clinic admins; every read is audited."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_health",
        responses={200: LeadHealthOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        lead = lead_visible_get(request, code)
        submissions = submission_health_read_many(
            user=request.user, submission_ids=lead_submission_ids(lead=lead)
        )
        body = {"lead": lead.code, "submissions": submissions}
        return Response(LeadHealthOutputSerializer(body).data)

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
from intake.services.health import submission_health_read_many
from leads.api.common import ERROR, NOT_VISIBLE, lead_visible_get
from leads.selectors import lead_submission_ids


class RuleExplanationOutputSerializer(serializers.Serializer[Any]):
    outcome = serializers.CharField()
    reason = serializers.CharField()
    answers = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField()  # type: ignore[assignment]
    reconsider_on = serializers.DateField(allow_null=True)


class TreatmentExplanationOutputSerializer(serializers.Serializer[Any]):
    treatment = serializers.CharField()
    outcome = serializers.CharField(help_text="As the rules decided.")
    effective = serializers.CharField(help_text="After physician decisions.")
    rules = RuleExplanationOutputSerializer(many=True)


class DecisionOutputSerializer(serializers.Serializer[Any]):
    treatment = serializers.CharField()
    decision = serializers.CharField()
    note = serializers.CharField()
    decided_by = serializers.CharField(source="decided_by.get_username")
    decided_at = serializers.DateTimeField()


class ScreeningOutputSerializer(serializers.Serializer[Any]):
    rule_set_version = serializers.CharField(allow_null=True)
    evaluated_on = serializers.DateField(allow_null=True)
    effective_outcomes = serializers.DictField(child=serializers.CharField())
    explanations = TreatmentExplanationOutputSerializer(many=True)
    overrides = DecisionOutputSerializer(many=True)


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

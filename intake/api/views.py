"""Intake API: the questionnaire, submissions, screening. Thin: services do the work."""

from typing import Any
from uuid import UUID, uuid4

from django.utils import timezone, translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.permissions import CanViewSubmissions
from core.addresses import client_address
from core.error_responses import ERROR_RESPONSE, error_response
from core.errors import BusinessError
from intake.api import serializers as s
from intake.screening import evaluate
from intake.selectors.next_steps import (
    booking_offer_get,
    follow_up_get,
    next_step_list,
    next_step_list_new,
)
from intake.selectors.questionnaires import (
    location_list_active,
    questionnaire_version_get_published,
)
from intake.selectors.screening import (
    rule_set_get_compiled,
    screening_rule_set_version_get_published,
)
from intake.services.health import submission_fhir_read, submission_screening_read
from intake.services.submissions import AnswersInvalid, submission_create
from intake.services.versions import definition_digest
from intake.throttling import FailOpenScopedRateThrottle

ERROR = ERROR_RESPONSE
NO_SUBMISSION = error_response(
    "No such submission, or not at one of your locations (the same answer)."
)
NO_HEALTH_READ = error_response(
    "Your login may not read submissions, or your role may not read health data."
)


def _answer_errors(error: BusinessError) -> BusinessError:
    """Field names as the client sent them: answers.<linkId>."""
    error.fields = {f"answers.{key}": value for key, value in error.fields.items()}
    return error


class QuestionnaireDetailApi(APIView):
    """The published questionnaire, for a clinic website that renders its own form."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.QuestionnaireOutputSerializer, 404: ERROR})
    def get(self, request: Request, slug: str) -> Response:
        version = questionnaire_version_get_published(slug=slug)
        data = {
            "slug": version.questionnaire.slug,
            "version": version.number,
            "published_at": version.published_at,
            "definition": version.definition,
            "locations": [
                {"code": location.slug, "name": location.name}
                for location in location_list_active()
            ],
        }
        return Response(s.QuestionnaireOutputSerializer(data).data)


class SubmissionCreateApi(APIView):
    """Send a completed questionnaire; the same checks as the patient form."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=s.SubmissionCreateInputSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="Send the same key again (a retry, a double click) to get "
                "the first submission back instead of a second one.",
            )
        ],
        responses={
            201: s.SubmissionCreatedSerializer,
            200: s.SubmissionCreatedSerializer,
            400: ERROR,
            409: ERROR,
            429: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        data = s.SubmissionCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["website"]:
            raise ValidationError({"website": ["This field must stay empty."]})
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 80:
            raise ValidationError({"Idempotency-Key": ["Use at most 80 characters."]})
        version = questionnaire_version_get_published()
        try:
            outcome = submission_create(
                version=version,
                language=data.validated_data["language"],
                answers=data.validated_data["answers"],
                idempotency_key=f"api:{key}" if key else f"api:{uuid4()}",
                source=data.validated_data.get("source", {}),
                request_digest=definition_digest(data.validated_data),
                client_address=client_address(request),
            )
        except AnswersInvalid as error:
            raise _answer_errors(error) from error
        submission = outcome.submission
        with translation.override(submission.language):
            steps = (
                next_step_list_new(
                    submission,
                    screening=outcome.screening,
                    language=submission.language,
                )
                if outcome.created
                else next_step_list(submission, language=submission.language)
            )
            follow_up = follow_up_get(submission, steps=steps)
            offer = booking_offer_get(
                submission, steps=steps, language=submission.language
            )
        body = {
            "id": submission.code,
            "next_steps": [vars(step) for step in steps],
            "follow_up": vars(follow_up),
            "booking": offer,
        }
        return Response(
            s.SubmissionCreatedSerializer(body).data,
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )


class SubmissionFhirApi(APIView):
    """A submission as a FHIR R4 QuestionnaireResponse (staff; each read is audited)."""

    permission_classes = [CanViewSubmissions]

    @extend_schema(
        responses={
            (200, "application/fhir+json"): OpenApiResponse(
                response=OpenApiTypes.OBJECT,
                description="FHIR R4 QuestionnaireResponse",
            ),
            403: NO_HEALTH_READ,
            404: NO_SUBMISSION,
        }
    )
    def get(self, request: Request, code: UUID) -> Response:
        resource = submission_fhir_read(
            user=request.user,
            code=code,
            canonical_base=request.build_absolute_uri("/").rstrip("/") + "/fhir",
        )
        return Response(resource, content_type="application/fhir+json")


class ScreeningEvaluateApi(APIView):
    """Evaluate answers against the published rules without storing anything."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "screening_evaluate"

    @extend_schema(
        request=s.ScreeningEvaluateInputSerializer,
        responses={
            200: OpenApiResponse(
                description="The screening result (docs/screening.md)."
            ),
            400: ERROR,
            429: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        data = s.ScreeningEvaluateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = screening_rule_set_version_get_published()
        if version is None:
            raise NotFound("No screening rules are published.")
        result = evaluate(
            data.validated_data["answers"],
            rule_set_get_compiled(version),
            today=timezone.localdate(),
            birth_date=data.validated_data["birth_date"],
        )
        return Response({"rule_set_version": str(version), **result.to_dict()})


class RuleSetDetailApi(APIView):
    """The published screening rules, with their sources."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(responses={200: s.RuleSetOutputSerializer, 404: ERROR})
    def get(self, request: Request) -> Response:
        version = screening_rule_set_version_get_published()
        if version is None:
            raise NotFound("No screening rules are published.")
        data = {
            "slug": version.rule_set.slug,
            "version": version.number,
            "published_at": version.published_at,
            "definition": version.definition,
        }
        return Response(s.RuleSetOutputSerializer(data).data)


class SubmissionScreeningApi(APIView):
    """A submission's screening result and physician decisions (staff, audited)."""

    permission_classes = [CanViewSubmissions]

    @extend_schema(
        responses={
            200: s.SubmissionScreeningOutputSerializer,
            403: NO_HEALTH_READ,
            404: NO_SUBMISSION,
        }
    )
    def get(self, request: Request, code: UUID) -> Response:
        screening = submission_screening_read(user=request.user, code=code)
        return Response(s.SubmissionScreeningOutputSerializer(screening).data)

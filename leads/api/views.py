"""Staff leads API: the queue, one lead, its timeline and health answers, actions.

Every lead is looked up through leads.selectors.lead_list_for_user: a lead the user
may not see answers 404 (never 403), on reads and actions alike. A lead the user
sees but an action their role may not take answers 403.
"""

import datetime as dt
import uuid
from typing import Any, cast

from django.contrib.auth.models import User
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from clinics.models import StaffMember
from clinics.selectors import staff_is_physician, staff_may_read_health, staff_role_get
from core.errors import BusinessError
from intake.models import HealthDataAccess
from intake.services.audit import health_data_access_record_many
from leads.api import serializers as s
from leads.api.export import CHUNK_ROWS, lead_csv_stream
from leads.api.pagination import keyset_page
from leads.api.permissions import IsStaffMember
from leads.models import Lead
from leads.selectors import (
    LEAD_ORDERINGS,
    LeadFilters,
    lead_event_list,
    lead_export_list,
    lead_get_for_user,
    lead_list_for_user,
    lead_queue_for_user,
    lead_submission_list,
    submission_health_get,
)
from leads.services.assignment import lead_assign
from leads.services.leads import (
    lead_call_log,
    lead_merge,
    lead_note_add,
    lead_transition,
)
from leads.services.review import lead_review_decide, lead_screening_reevaluate

ERROR = OpenApiResponse(description="The error body: message, code, fields.")
NOT_VISIBLE = OpenApiResponse(
    description="No such lead, or not at one of your locations (the same answer)."
)


class LeadNotFound(BusinessError):
    code = "not_found"
    status_code = 404


def _user(request: Request) -> User:
    # IsStaffMember admits signed-in users only.
    return cast(User, request.user)


def _visible_lead(request: Request, code: uuid.UUID) -> Lead:
    lead = lead_list_for_user(user=request.user).filter(code=code).first()
    if lead is None:
        raise NotFound("No such lead.")
    return lead


def _detail(request: Request, code: uuid.UUID, *, now: dt.datetime) -> Response:
    lead = lead_get_for_user(user=request.user, code=code)
    if lead is None:
        raise NotFound("No such lead.")
    return Response(s.LeadDetailOutputSerializer(lead, context={"now": now}).data)


def _filters(data: dict[str, Any], *, user: User) -> LeadFilters:
    owner = data.get("owner")
    if owner == "me":
        owner = user.pk
    search = data.get("q") or s.LeadSearch()
    return LeadFilters(
        statuses=data.get("status", ()),
        priorities=data.get("priority", ()),
        owner_id=owner if isinstance(owner, int) else None,
        unassigned=owner == "none",
        overdue=bool(data.get("overdue")),
        location=data.get("location"),
        treatment=data.get("treatment", ""),
        outcome=data.get("outcome", ""),
        created_after=data.get("created_after"),
        created_before=data.get("created_before"),
        email_key=search.email_key,
        phone=search.phone,
        name=search.name,
    )


class LeadListApi(APIView):
    """The queue: the leads of your locations, filtered, most urgent first."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="leads_list",
        parameters=[s.LeadListInputSerializer],
        responses={200: s.LeadListOutputSerializer, 400: ERROR, 403: ERROR},
    )
    def get(self, request: Request) -> Response:
        params = s.LeadListInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        now = timezone.now()
        leads = lead_queue_for_user(
            user=request.user, filters=_filters(data, user=_user(request)), now=now
        )
        ordering = LEAD_ORDERINGS[data["ordering"]]
        page = keyset_page(
            leads,
            name=data["ordering"],
            field=ordering.field,
            descending=ordering.descending,
            cursor=data.get("cursor"),
            page_size=data["page_size"],
        )
        body = {"results": page.rows, "next": page.next_url(request)}
        return Response(s.LeadListOutputSerializer(body, context={"now": now}).data)


class CsvRenderer(BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation; the view streams."""

    media_type = "text/csv"
    format = "csv"


class LeadExportApi(APIView):
    """The filtered queue as CSV, streamed (no pagination; 100,000 rows are fine).

    Needs the clinic admin role or the `leads.export_lead` permission. The
    screening column (include_health=true) is for physicians and clinic admins and
    writes one audit row per exported lead's newest submission.
    """

    permission_classes = [IsStaffMember]

    def perform_content_negotiation(
        self, request: Request, force: bool = False
    ) -> tuple[BaseRenderer, str]:
        # Errors are JSON whatever the client accepts; the CSV bypasses renderers.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="leads_export",
        parameters=[s.LeadExportInputSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="A header row, then one row per lead, in the order asked.",
            ),
            400: ERROR,
            403: ERROR,
        },
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        user = _user(request)
        if not (
            staff_role_get(user) == StaffMember.Role.CLINIC_ADMIN
            or user.has_perm("leads.export_lead")
        ):
            raise PermissionDenied("Exporting leads needs the export permission.")
        params = s.LeadExportInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        with_screening = data["include_health"]
        if with_screening and not staff_may_read_health(user):
            raise PermissionDenied(
                "Only physicians and clinic admins may export screening outcomes."
            )
        now = timezone.now()
        leads = lead_export_list(
            user=user,
            filters=_filters(data, user=user),
            ordering=LEAD_ORDERINGS[data["ordering"]],
            now=now,
            with_latest_submission=with_screening,
        )
        response = StreamingHttpResponse(
            lead_csv_stream(
                leads.iterator(chunk_size=CHUNK_ROWS),
                user=user,
                now=now,
                with_screening=with_screening,
            ),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="leads-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response


class LeadDetailApi(APIView):
    """One lead: contact, pipeline, score and why, submissions, open tasks.

    A merged lead answers too, with `merged_into` set to the lead it joined.
    """

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_detail",
        responses={200: s.LeadDetailOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        return _detail(request, code, now=timezone.now())


class LeadTimelineApi(APIView):
    """The lead's timeline, newest first, a page at a time."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_timeline",
        parameters=[s.TimelineInputSerializer],
        responses={
            200: s.LeadTimelineOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
        },
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        params = s.TimelineInputSerializer(data=request.query_params)
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
        return Response(s.LeadTimelineOutputSerializer(body).data)


class LeadHealthApi(APIView):
    """The health answers of each of the lead's submissions, in words, and their
    screening explained. Physicians and clinic admins; every read is audited."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_health",
        responses={200: s.LeadHealthOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        if not staff_may_read_health(request.user):
            raise PermissionDenied("Health answers are for physicians and admins.")
        submissions = lead_submission_list(lead=lead)
        health_data_access_record_many(
            submissions=[(one.pk, one.code) for one in submissions],
            user=_user(request),
            what=HealthDataAccess.What.ANSWERS,
        )
        body = {
            "lead": lead.code,
            "submissions": [submission_health_get(one) for one in submissions],
        }
        return Response(s.LeadHealthOutputSerializer(body).data)


class LeadTransitionApi(APIView):
    """Move the lead along the pipeline; a move it does not allow answers 400
    `transition_not_allowed` with the statuses it may go to."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_transition",
        request=s.LeadTransitionInputSerializer,
        responses={
            200: s.LeadDetailOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        data = s.LeadTransitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_transition(lead=lead, actor=_user(request), **data.validated_data)
        return _detail(request, code, now=timezone.now())


class LeadAssignApi(APIView):
    """Give the lead to a coordinator of its location, or back to the unassigned
    queue. Lead coordinators and clinic admins reassign any lead; a coordinator may
    take an unassigned lead (lead_assign decides, 403 otherwise)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_assign",
        request=s.LeadAssignInputSerializer,
        responses={
            200: s.LeadDetailOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        data = s.LeadAssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_assign(lead=lead, owner=data.validated_data["owner"], actor=_user(request))
        return _detail(request, code, now=timezone.now())


class LeadNoteCreateApi(APIView):
    """Add a note to the lead's timeline."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_note_create",
        request=s.LeadNoteInputSerializer,
        responses={
            201: s.LeadEventOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        data = s.LeadNoteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = lead_note_add(
            lead=lead, text=data.validated_data["text"], actor=_user(request)
        )
        return Response(
            s.LeadEventOutputSerializer(event).data, status=status.HTTP_201_CREATED
        )


class LeadCallCreateApi(APIView):
    """Log a call; any call meets the first-contact deadline."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_call_create",
        request=s.LeadCallInputSerializer,
        responses={
            201: s.LeadEventOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        data = s.LeadCallInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        event = lead_call_log(lead=lead, actor=_user(request), **data.validated_data)
        return Response(
            s.LeadEventOutputSerializer(event).data, status=status.HTTP_201_CREATED
        )


class LeadMergeApi(APIView):
    """Fold a duplicate lead into this one; you must see both (else 404)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_merge",
        request=s.LeadMergeInputSerializer,
        responses={
            200: s.LeadDetailOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        data = s.LeadMergeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        duplicate = (
            lead_list_for_user(user=request.user)
            .filter(code=data.validated_data["duplicate"])
            .first()
        )
        if duplicate is None:
            raise LeadNotFound("No such lead.", fields={"duplicate": ["No such lead."]})
        lead_merge(lead=lead, duplicate=duplicate, actor=_user(request))
        return _detail(request, code, now=timezone.now())


class LeadDecisionCreateApi(APIView):
    """A physician clears or declines one treatment of the lead's newest submission."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_decision_create",
        request=s.LeadDecisionInputSerializer,
        responses={
            200: s.LeadDetailOutputSerializer,
            400: ERROR,
            403: ERROR,
            404: NOT_VISIBLE,
            409: ERROR,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        if not staff_is_physician(request.user):
            raise PermissionDenied("Only a physician can decide on a treatment.")
        data = s.LeadDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lead_review_decide(lead=lead, physician=_user(request), **data.validated_data)
        return _detail(request, code, now=timezone.now())


class LeadScreeningReevaluateApi(APIView):
    """A physician has the lead's newest answers evaluated again under today's
    published rules; the lead's treatments follow."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_screening_reevaluate",
        request=None,
        responses={200: s.LeadDetailOutputSerializer, 403: ERROR, 404: NOT_VISIBLE},
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _visible_lead(request, code)
        if not staff_is_physician(request.user):
            raise PermissionDenied(
                "Only a physician can have the answers evaluated again."
            )
        lead_screening_reevaluate(lead=lead, physician=_user(request))
        return _detail(request, code, now=timezone.now())

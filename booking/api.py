"""Staff API for booking on a patient's behalf: what the lead may book, and booking it.

A lead is found through leads.selectors.lead_list_for_user: another location's lead
answers 404, as everywhere in the staff API. What may be booked is the screening's
say (booking.selectors.lead_may_book), for staff as for the patient.
"""

import uuid
from typing import Any, cast

from django.contrib.auth.models import User
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from booking.models import AppointmentType, Booking
from booking.selectors import (
    Routing,
    booking_option_list,
    course_rest_propose,
    lead_booking_list,
)
from booking.services import (
    booking_attended_record,
    booking_cancel,
    booking_create,
    booking_reschedule,
    course_book_rest,
)
from clinics.models import Location, Practitioner
from clinics.permissions import IsStaffMember
from core.error_responses import ERROR_RESPONSE, error_response
from core.serializers import QueryParamsSerializer
from leads.models import Lead
from leads.selectors import lead_list_for_user

NOT_VISIBLE = error_response(
    "No such lead, or not at one of your locations (the same answer)."
)
NOT_BOOKABLE = error_response("Screening does not allow it: not_bookable.")
SLOT_TAKEN = error_response("The time is no longer free: slot_taken.")
BOOKING_CHANGED = error_response(
    "The booking no longer allows it: booking_cancelled, change_too_late, "
    "not_attended_yet."
)


def _lead(request: Request, code: uuid.UUID) -> Lead:
    lead = (
        lead_list_for_user(user=request.user)
        .select_related("location")
        .filter(code=code)
        .first()
    )
    if lead is None or lead.merged_into_id is not None:
        raise NotFound("No such lead.")
    return lead


class OptionsInputSerializer(QueryParamsSerializer):
    days = serializers.IntegerField(
        required=False, default=7, min_value=1, max_value=60
    )


class SlotOutputSerializer(serializers.Serializer[Any]):
    starts_at = serializers.DateTimeField(source="start")
    ends_at = serializers.DateTimeField(source="end")


class BookingOptionOutputSerializer(serializers.Serializer[Any]):
    appointment_type = serializers.UUIDField(source="appointment_type.code")
    appointment_name = serializers.CharField(source="appointment_type.name_en")
    treatment = serializers.CharField(source="appointment_type.treatment")
    duration_minutes = serializers.IntegerField(
        source="appointment_type.duration_minutes"
    )
    practitioner = serializers.UUIDField(source="practitioner.code")
    practitioner_name = serializers.CharField(source="practitioner.display_name")
    practitioner_languages = serializers.ListField(
        source="practitioner.languages", child=serializers.CharField()
    )
    location = serializers.SlugField(source="location.slug")
    routing = serializers.ChoiceField(choices=[step.value for step in Routing])
    slots = SlotOutputSerializer(many=True, help_text="The first free times.")


class LeadBookingOptionsApi(APIView):
    """What the lead may book at its location, with each practitioner's first free
    times: only treatments its screening allows now."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_options",
        parameters=[OptionsInputSerializer],
        responses={
            200: BookingOptionOutputSerializer(many=True),
            400: ERROR_RESPONSE,
            404: NOT_VISIBLE,
        },
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        lead = _lead(request, code)
        params = OptionsInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        options = booking_option_list(
            lead=lead, now=timezone.now(), days=params.validated_data["days"]
        )
        return Response(BookingOptionOutputSerializer(options, many=True).data)


class BookingMoveInputSerializer(serializers.Serializer[Any]):
    practitioner = serializers.SlugRelatedField(
        slug_field="code", queryset=Practitioner.objects.filter(is_active=True)
    )
    location = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Location.objects.filter(is_active=True),
        required=False,
        help_text="Where, as offered; the lead's own location when left out.",
    )
    starts_at = serializers.DateTimeField(
        help_text="One of the free times offered (with its time zone)."
    )


class BookingInputSerializer(BookingMoveInputSerializer):
    appointment_type = serializers.SlugRelatedField(
        slug_field="code", queryset=AppointmentType.objects.filter(is_active=True)
    )


class BookingOutputSerializer(serializers.Serializer[Any]):
    code = serializers.UUIDField()
    session_number = serializers.IntegerField(
        help_text="Which session of its course (1 for a single appointment)."
    )
    course_sessions = serializers.IntegerField(
        source="appointment_type.course_sessions",
        help_text="How many sessions the course has.",
    )
    routing = serializers.ChoiceField(
        choices=[step.value for step in Routing],
        help_text="language: at the lead's location in their language; "
        "any_language: there, in another; other_location: another location",
    )
    appointment_type = serializers.UUIDField(source="appointment_type.code")
    practitioner = serializers.UUIDField(source="practitioner.code")
    location = serializers.SlugField(source="location.slug")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=Booking.Status.choices)
    attended_at = serializers.DateTimeField(
        allow_null=True, help_text="When staff recorded that the session took place."
    )


class BookingListedSerializer(BookingOutputSerializer):
    waiting_to_sync = serializers.BooleanField(
        source="sync_pending",
        help_text="A change not yet in the practitioner's CalDAV calendar; the "
        "patient's booking stands meanwhile.",
    )


class LeadBookingCreateApi(APIView):
    """The lead's bookings (GET), and booking on the patient's behalf (POST: a
    coordinator on the phone with them)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_list",
        responses={200: BookingListedSerializer(many=True), 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID) -> Response:
        bookings = lead_booking_list(lead=_lead(request, code))
        return Response(BookingListedSerializer(bookings, many=True).data)

    @extend_schema(
        operation_id="lead_booking_create",
        request=BookingInputSerializer,
        responses={
            201: BookingOutputSerializer,
            400: ERROR_RESPONSE,
            403: NOT_BOOKABLE,
            404: NOT_VISIBLE,
            409: SLOT_TAKEN,
        },
    )
    def post(self, request: Request, code: uuid.UUID) -> Response:
        lead = _lead(request, code)
        data = BookingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = booking_create(
            lead=lead,
            appointment_type=data.validated_data["appointment_type"],
            practitioner=data.validated_data["practitioner"],
            location=data.validated_data.get("location", lead.location),
            starts_at=data.validated_data["starts_at"],
            booked_by=cast(User, request.user),
        )
        return Response(
            BookingOutputSerializer(booking).data, status=status.HTTP_201_CREATED
        )


def _booking(lead: Lead, booking_code: uuid.UUID) -> Booking:
    booking = (
        Booking.objects.select_related("appointment_type", "location", "practitioner")
        .filter(lead=lead, code=booking_code)
        .first()
    )
    if booking is None:
        raise NotFound("No such booking of this lead.")
    return booking


class LeadBookingMoveApi(APIView):
    """Move a booking to another free time, for the patient (any time before it)."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_reschedule",
        request=BookingMoveInputSerializer,
        responses={
            200: BookingOutputSerializer,
            400: ERROR_RESPONSE,
            403: NOT_BOOKABLE,
            404: NOT_VISIBLE,
            409: SLOT_TAKEN,
        },
    )
    def post(self, request: Request, code: uuid.UUID, booking: uuid.UUID) -> Response:
        lead = _lead(request, code)
        data = BookingMoveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        moved = booking_reschedule(
            booking=_booking(lead, booking),
            practitioner=data.validated_data["practitioner"],
            location=data.validated_data.get("location", lead.location),
            starts_at=data.validated_data["starts_at"],
            by=cast(User, request.user),
        )
        return Response(BookingOutputSerializer(moved).data)


class LeadBookingCancelApi(APIView):
    """Cancel a booking for the patient; its time is free again."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_cancel",
        request=None,
        responses={
            200: BookingOutputSerializer,
            404: NOT_VISIBLE,
            409: BOOKING_CHANGED,
        },
    )
    def post(self, request: Request, code: uuid.UUID, booking: uuid.UUID) -> Response:
        lead = _lead(request, code)
        cancelled = booking_cancel(
            booking=_booking(lead, booking), by=cast(User, request.user)
        )
        return Response(BookingOutputSerializer(cancelled).data)


class LeadBookingAttendedApi(APIView):
    """Record that a session took place: the lead moves on to in treatment and the
    day-after care follows by email."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_attended",
        request=None,
        responses={
            200: BookingOutputSerializer,
            404: NOT_VISIBLE,
            409: BOOKING_CHANGED,
        },
    )
    def post(self, request: Request, code: uuid.UUID, booking: uuid.UUID) -> Response:
        lead = _lead(request, code)
        attended = booking_attended_record(
            booking=_booking(lead, booking), by=cast(User, request.user)
        )
        return Response(BookingOutputSerializer(attended).data)


class CourseSessionSerializer(serializers.Serializer[Any]):
    number = serializers.IntegerField(min_value=2)
    starts_at = serializers.DateTimeField(
        allow_null=True,
        help_text="The free time proposed (null: none within days of its place).",
    )


class CourseTargetSerializer(CourseSessionSerializer):
    target = serializers.DateTimeField(
        help_text="Where the course's spacing puts the session."
    )


class CourseInputSerializer(serializers.Serializer[Any]):
    sessions = CourseSessionSerializer(many=True, allow_empty=False)

    def validate_sessions(self, sessions: list[dict[str, Any]]) -> list[Any]:
        if any(one["starts_at"] is None for one in sessions):
            raise serializers.ValidationError("Give a time for every session.")
        if len({one["number"] for one in sessions}) != len(sessions):
            raise serializers.ValidationError("Give each session once.")
        return sessions


class LeadBookingCourseApi(APIView):
    """The rest of a course its first session starts: GET proposes a free time for
    each session not booked (the first's weekday and time, the type's spacing
    apart, beyond its usual horizon); POST books the given ones, all or none."""

    permission_classes = [IsStaffMember]

    @extend_schema(
        operation_id="lead_booking_course",
        responses={200: CourseTargetSerializer(many=True), 404: NOT_VISIBLE},
    )
    def get(self, request: Request, code: uuid.UUID, booking: uuid.UUID) -> Response:
        first = _booking(_lead(request, code), booking)
        proposal = course_rest_propose(first, now=timezone.now())
        return Response(CourseTargetSerializer(proposal, many=True).data)

    @extend_schema(
        operation_id="lead_booking_course_book",
        request=CourseInputSerializer,
        responses={
            201: BookingOutputSerializer(many=True),
            400: ERROR_RESPONSE,
            403: NOT_BOOKABLE,
            404: NOT_VISIBLE,
            409: SLOT_TAKEN,
        },
    )
    def post(self, request: Request, code: uuid.UUID, booking: uuid.UUID) -> Response:
        first = _booking(_lead(request, code), booking)
        data = CourseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sessions = course_book_rest(
            first=first,
            times={
                one["number"]: one["starts_at"]
                for one in data.validated_data["sessions"]
            },
            booked_by=cast(User, request.user),
        )
        return Response(
            BookingOutputSerializer(sessions, many=True).data,
            status=status.HTTP_201_CREATED,
        )

from django.urls import URLPattern, path

from booking.api import (
    LeadBookingAttendedApi,
    LeadBookingCancelApi,
    LeadBookingCourseApi,
    LeadBookingCreateApi,
    LeadBookingMoveApi,
    LeadBookingOptionsApi,
)

urlpatterns: list[URLPattern] = [
    path(
        "leads/<uuid:code>/booking-options",
        LeadBookingOptionsApi.as_view(),
        name="lead-booking-options",
    ),
    path(
        "leads/<uuid:code>/bookings",
        LeadBookingCreateApi.as_view(),
        name="lead-booking-create",
    ),
    path(
        "leads/<uuid:code>/bookings/<uuid:booking>/reschedule",
        LeadBookingMoveApi.as_view(),
        name="lead-booking-reschedule",
    ),
    path(
        "leads/<uuid:code>/bookings/<uuid:booking>/cancel",
        LeadBookingCancelApi.as_view(),
        name="lead-booking-cancel",
    ),
    path(
        "leads/<uuid:code>/bookings/<uuid:booking>/attended",
        LeadBookingAttendedApi.as_view(),
        name="lead-booking-attended",
    ),
    path(
        "leads/<uuid:code>/bookings/<uuid:booking>/course",
        LeadBookingCourseApi.as_view(),
        name="lead-booking-course",
    ),
]

from django.urls import URLPattern, path

from booking.api import LeadBookingCreateApi, LeadBookingOptionsApi

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
]

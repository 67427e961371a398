"""The clinic's booking setup, as forms: appointment types, each practitioner's week
and days away, the locations' holidays; and the bookings, per location."""

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    Holiday,
    WeeklyAvailability,
)
from clinics.admin import LocationScopedAdmin, PractitionerAdmin
from clinics.models import Practitioner
from intake.selectors.questionnaires import treatment_options

TIME_FIELDS = [
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_hours",
    "horizon_days",
]


class AppointmentTypeForm(forms.ModelForm[AppointmentType]):
    # The questionnaire's treatments, so that screening can decide who books it.
    treatment = forms.ChoiceField(
        label=_("Treatment"),
        choices=treatment_options,
        help_text=_("Its screening decides who may book this appointment."),
    )

    class Meta:
        model = AppointmentType
        fields = [
            "name_en", "name_tr", "treatment", "is_active", *TIME_FIELDS,
            "requires_physician_clearance", "practitioners", "course_sessions",
            "course_spacing_days",
        ]  # fmt: skip


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin[AppointmentType]):
    form = AppointmentTypeForm
    list_display = [
        "name_en", "treatment", "duration_minutes", "requires_physician_clearance",
        "course_sessions", "is_active",
    ]  # fmt: skip
    list_filter = ["treatment", "is_active", "requires_physician_clearance"]
    filter_horizontal = ["practitioners"]
    fieldsets = [
        (None, {"fields": ["name_en", "name_tr", "treatment", "is_active"]}),
        (_("Time"), {"fields": tuple(TIME_FIELDS)}),
        (_("Who"), {"fields": ["requires_physician_clearance", "practitioners"]}),
        (_("Course"), {"fields": ["course_sessions", "course_spacing_days"]}),
    ]


# Wall-clock times at the location, typed as 09:00: not the admin's clock widget,
# which offers "now" and compares with the server's time zone.
LOCAL_TIMES: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.TimeField: {
        "widget": forms.TimeInput(format="%H:%M", attrs={"type": "time"})
    }
}


class WeeklyAvailabilityInline(admin.TabularInline[WeeklyAvailability, Practitioner]):
    model = WeeklyAvailability
    extra = 1
    formfield_overrides = LOCAL_TIMES


class AvailabilityExceptionInline(
    admin.TabularInline[AvailabilityException, Practitioner]
):
    model = AvailabilityException
    extra = 0
    formfield_overrides = LOCAL_TIMES


admin.site.unregister(Practitioner)


@admin.register(Practitioner)
class PractitionerWithAvailabilityAdmin(PractitionerAdmin):
    """The clinic's practitioner screen, with the week they work and their days
    away, where they work."""

    inlines = [WeeklyAvailabilityInline, AvailabilityExceptionInline]


@admin.register(Holiday)
class HolidayAdmin(LocationScopedAdmin[Holiday]):
    list_display = ["day", "name", "location"]
    list_filter = ["location"]
    date_hierarchy = "day"


@admin.register(Booking)
class BookingAdmin(LocationScopedAdmin[Booking]):
    """Bookings are made through the booking pages and API (screening decides who
    may book); the admin lists them."""

    list_display = [
        "starts_at", "appointment_type", "practitioner", "location", "status",
    ]  # fmt: skip
    list_filter = ["status", "location", "practitioner"]
    list_select_related = ["appointment_type", "practitioner", "location"]
    date_hierarchy = "starts_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

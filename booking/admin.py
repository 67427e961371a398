"""The clinic's booking setup, as forms: appointment types, each practitioner's week
and days away, the locations' holidays; and the bookings, per location."""

from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from booking.calendar_sync import (
    calendar_sync_queue_upcoming,
    calendar_sync_retry_now,
    practitioner_calendar_feed_token_regenerate,
)
from booking.models import (
    AppointmentType,
    AvailabilityException,
    Booking,
    CalendarSync,
    Holiday,
    PractitionerCalendar,
    WeeklyAvailability,
)
from booking.services import booking_attended_record
from clinics.admin import ClinicAdminOnlyAdmin, LocationScopedAdmin, PractitionerAdmin
from clinics.models import Practitioner
from core.errors import BusinessError
from core.secrets import SecretUnreadable, secret_cipher
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
    may book); the admin lists them, and records the sessions that took place."""

    list_display = [
        "starts_at", "appointment_type", "practitioner", "location", "status",
        "attended_at",
    ]  # fmt: skip
    list_filter = ["status", "location", "practitioner"]
    list_select_related = ["appointment_type", "practitioner", "location"]
    date_hierarchy = "starts_at"
    actions = ["attended"]

    @admin.action(description=_("Record as attended"), permissions=["view"])
    def attended(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        recorded, refused = 0, []
        for booking in queryset.filter(attended_at__isnull=True):
            try:
                booking_attended_record(booking=booking, by=cast(User, request.user))
            except BusinessError as error:
                refused.append(f"{booking}: {error.message}")
            else:
                recorded += 1
        self.message_user(
            request, _("%(count)s recorded as attended.") % {"count": recorded}
        )
        for reason in refused:
            self.message_user(request, reason, level=messages.WARNING)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# -- Practitioners' calendars ------------------------------------------------------


class PractitionerCalendarForm(forms.ModelForm[PractitionerCalendar]):
    """The calendar's kind and CalDAV login, stored encrypted; the password is
    never shown again, only replaced."""

    caldav_url = forms.URLField(
        label=_("CalDAV calendar address"),
        required=False,
        max_length=1000,
        assume_scheme="https",
        help_text=_(
            "The full address of the calendar itself (a collection), e.g. "
            "https://caldav.example.com/calendars/dr-demir/work/."
        ),
    )
    caldav_username = forms.CharField(
        label=_("CalDAV user name"), required=False, max_length=200
    )
    caldav_password = forms.CharField(
        label=_("CalDAV password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "Leave empty to keep the password stored. An app password is best."
        ),
    )

    class Meta:
        model = PractitionerCalendar
        fields = ["practitioner", "kind"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            try:
                self.initial["caldav_url"] = self.instance.caldav_url
                self.initial["caldav_username"] = self.instance.caldav_username
            except SecretUnreadable:
                pass  # a dropped key: the admin types them again

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if cleaned is None:
            return None
        if cleaned.get("kind") == PractitionerCalendar.Kind.CALDAV:
            if not cleaned.get("caldav_url"):
                self.add_error(
                    "caldav_url", _("A CalDAV calendar needs the calendar's address.")
                )
            try:
                secret_cipher()
            except ImproperlyConfigured:
                raise forms.ValidationError(
                    _("Set SECRET_DATA_KEYS on the server to store a CalDAV login.")
                ) from None
        return cleaned

    def save(self, commit: bool = True) -> PractitionerCalendar:
        calendar = super().save(commit=False)
        data = self.cleaned_data
        if data.get("caldav_url") or calendar.caldav_url_secret:
            calendar.caldav_url = data.get("caldav_url") or ""
        if data.get("caldav_username") or calendar.caldav_username_secret:
            calendar.caldav_username = data.get("caldav_username") or ""
        if data.get("caldav_password"):
            calendar.caldav_password = data["caldav_password"]
        if commit:
            calendar.save()
        return calendar


@admin.register(PractitionerCalendar)
class PractitionerCalendarAdmin(ClinicAdminOnlyAdmin[PractitionerCalendar]):
    """Where each practitioner's bookings appear (clinic admins only: it holds a
    login). Saving talks to no calendar: the worker does, within minutes."""

    form = PractitionerCalendarForm
    list_display = ["practitioner", "kind", "busy_imported_at", "busy_error"]
    list_filter = ["kind"]
    list_select_related = ["practitioner"]
    readonly_fields = ["feed_url", "busy_imported_at", "busy_error", "busy_error_at"]
    fieldsets = [
        (None, {"fields": ["practitioner", "kind"]}),
        (
            _("Built-in feed"),
            {
                "fields": ["feed_url"],
                "description": _(
                    "The practitioner subscribes to this address in their calendar "
                    "app. Whoever has it sees the bookings: keep it private, and "
                    "give a new one (the action on the list) if it leaks."
                ),
            },
        ),
        (
            _("CalDAV"),
            {
                "fields": [
                    "caldav_url",
                    "caldav_username",
                    "caldav_password",
                    "busy_imported_at",
                    "busy_error",
                    "busy_error_at",
                ],
            },
        ),
    ]
    actions = ["feed_address_regenerate", "upcoming_bookings_send"]

    @admin.display(description=_("feed address"))
    def feed_url(self, calendar: PractitionerCalendar) -> SafeString | str:
        if not calendar.pk:
            return str(_("Shown once saved."))
        path = reverse("calendars:feed", kwargs={"token": calendar.feed_token})
        return format_html(
            '<input type="text" readonly value="{}" size="90" aria-label="{}">',
            f"{settings.SITE_URL.rstrip('/')}{path}",
            _("feed address"),
        )

    @admin.action(description=_("Give the feed a new address (the old one stops)"))
    def feed_address_regenerate(
        self, request: HttpRequest, queryset: QuerySet[PractitionerCalendar]
    ) -> None:
        for calendar in queryset:
            practitioner_calendar_feed_token_regenerate(calendar=calendar)
        self.message_user(
            request,
            _("New feed addresses: the practitioners subscribe again."),
            messages.SUCCESS,
        )

    @admin.action(description=_("Send the upcoming bookings to the CalDAV calendar"))
    def upcoming_bookings_send(
        self, request: HttpRequest, queryset: QuerySet[PractitionerCalendar]
    ) -> None:
        queued = sum(
            calendar_sync_queue_upcoming(calendar=calendar)
            for calendar in queryset.filter(kind=PractitionerCalendar.Kind.CALDAV)
        )
        self.message_user(request, _("%(count)s bookings queued.") % {"count": queued})


@admin.register(CalendarSync)
class CalendarSyncAdmin(LocationScopedAdmin[CalendarSync]):
    """The changes on their way to CalDAV calendars, and those that failed."""

    location_field = "booking__location"
    list_display = [
        "booking", "calendar", "sequence", "status", "attempts", "next_attempt_at",
        "last_error", "sent_at",
    ]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["booking__appointment_type", "calendar__practitioner"]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Try again now"))
    def retry_now(self, request: HttpRequest, queryset: QuerySet[CalendarSync]) -> None:
        retried = sum(calendar_sync_retry_now(sync_id=row.pk) for row in queryset)
        self.message_user(request, _("%(count)s sent again.") % {"count": retried})

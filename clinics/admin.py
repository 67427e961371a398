"""The clinic's own screens, and the location scope every screen of location data
uses."""

import io
import re
from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError

from clinics.models import (
    ApiToken,
    ClinicBranding,
    Location,
    Practitioner,
    StaffMember,
    default_opening_hours,
)
from clinics.selectors import Role, location_scoped, staff_role_get
from clinics.services import api_token_revoke
from clinics.workinghours import WEEKDAYS, opening_hours_check

M = TypeVar("M", bound=Model)


class LocationScopedAdmin(admin.ModelAdmin[M]):
    """Lists, searches, change, history and delete pages, actions and inlines of
    rows at the user's locations only: the admin reads every object through
    get_queryset, so another location's row is "does not exist" on every page."""

    # The path from the model to its Location, as a queryset lookup.
    location_field = "location"

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        return location_scoped(
            super().get_queryset(request),
            user=request.user,
            location_field=self.location_field,
        )


class ClinicAdminOnlyAdmin(admin.ModelAdmin[M]):
    """Clinic-wide configuration that carries secrets: clinic admins only, whatever
    Django permissions a coordinator or physician was given."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_clinic_admin(request) and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_clinic_admin(request) and super().has_view_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_clinic_admin(request) and super().has_change_permission(
            request, obj
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._is_clinic_admin(request) and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_clinic_admin(request) and super().has_delete_permission(
            request, obj
        )

    @staticmethod
    def _is_clinic_admin(request: HttpRequest) -> bool:
        return staff_role_get(request.user) == Role.CLINIC_ADMIN


DAY_NAMES = {
    "mon": _("Monday"),
    "tue": _("Tuesday"),
    "wed": _("Wednesday"),
    "thu": _("Thursday"),
    "fri": _("Friday"),
    "sat": _("Saturday"),
    "sun": _("Sunday"),
}
HOURS = re.compile(r"^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$")


def _hours_field(day: str) -> forms.CharField:
    return forms.CharField(
        label=DAY_NAMES[day],
        required=False,
        help_text=_("e.g. 09:00-13:00, 14:00-18:00; empty: closed")
        if day == "mon"
        else "",
    )


class LocationForm(forms.ModelForm[Location]):
    """Opening hours as one line per weekday ("09:00-13:00, 14:00-18:00"; empty:
    closed), not JSON; they are checked as deadlines will count them."""

    hours_mon = _hours_field("mon")
    hours_tue = _hours_field("tue")
    hours_wed = _hours_field("wed")
    hours_thu = _hours_field("thu")
    hours_fri = _hours_field("fri")
    hours_sat = _hours_field("sat")
    hours_sun = _hours_field("sun")

    class Meta:
        model = Location
        fields = [
            "name", "name_tr", "slug", "address", "phone", "country", "time_zone",
            "is_active",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        hours = instance.opening_hours if instance.pk else default_opening_hours()
        for day in WEEKDAYS:
            spans = hours.get(day, [])
            self.fields[f"hours_{day}"].initial = ", ".join(
                f"{a}-{b}" for a, b in spans
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        week: dict[str, list[list[str]]] = {}
        for day in WEEKDAYS:
            text = (data.get(f"hours_{day}") or "").strip()
            spans = []
            for part in filter(None, (p.strip() for p in text.split(","))):
                found = HOURS.match(part)
                if found is None:
                    self.add_error(f"hours_{day}", WRONG_HOURS)
                    break
                spans.append([found.group(1).zfill(5), found.group(2).zfill(5)])
            if spans:
                try:
                    opening_hours_check({day: spans})
                except ValueError as problem:
                    self.add_error(f"hours_{day}", str(problem).split(": ", 1)[-1])
                else:
                    week[day] = spans
        try:
            opening_hours_check(week)
        except ValueError:
            self.add_error("hours_mon", _("Give the hours of at least one day."))
            return data  # the model keeps its hours: nothing is saved
        self.instance.opening_hours = week
        return data


WRONG_HOURS = _("Write each span as 09:00-18:00, spans apart by commas.")


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    form = LocationForm
    list_display = ["name", "slug", "time_zone", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


class LanguagesField(forms.MultipleChoiceField):
    """The languages someone speaks, as ticks: no JSON to type."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=settings.LANGUAGES,
            widget=forms.CheckboxSelectMultiple,
            required=False,
            **kwargs,
        )


class PractitionerForm(forms.ModelForm[Practitioner]):
    languages = LanguagesField(label=_("Languages"))

    class Meta:
        model = Practitioner
        fields = ["user", "display_name", "kind", "locations", "languages", "is_active"]


class StaffMemberForm(forms.ModelForm[StaffMember]):
    languages = LanguagesField(label=_("Languages"))

    class Meta:
        model = StaffMember
        fields = [
            "user", "role", "locations", "languages", "is_on_duty",
            "is_lead_coordinator",
        ]  # fmt: skip


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin[Practitioner]):
    form = PractitionerForm
    list_display = ["display_name", "kind", "is_active"]
    list_filter = ["kind", "is_active", "locations"]
    filter_horizontal = ["locations"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin[StaffMember]):
    form = StaffMemberForm
    list_display = ["user", "role", "is_on_duty"]
    list_filter = ["role", "is_on_duty", "locations"]
    filter_horizontal = ["locations"]
    list_select_related = ["user"]


LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 800


class ClinicBrandingForm(forms.ModelForm[ClinicBranding]):
    """The logo as an upload, re-encoded (no SVG: it can carry script)."""

    logo_upload = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG or WebP, up to 2 MB; shown at most 40 pixels high."),
    )
    logo_remove = forms.BooleanField(label=_("Remove the logo"), required=False)
    website = forms.URLField(label=_("website"), required=False, assume_scheme="https")

    class Meta:
        model = ClinicBranding
        fields = [
            "name", "colour_accent", "colour_ink", "address", "phone", "email",
            "website", "controller", "privacy_contact", "retention_months",
            "privacy_notice_en", "privacy_notice_tr", "privacy_notice_version",
            "staff_idle_minutes", "staff_session_hours",
        ]  # fmt: skip

    def clean_logo_upload(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("logo_upload")
        if not upload:
            return None
        wrong = forms.ValidationError(_("Please upload a PNG, JPEG or WebP image."))
        if upload.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(_("The logo must be 2 MB or smaller."))
        try:
            with Image.open(upload) as image:
                kind = image.format or ""
                if kind not in LOGO_FORMATS:
                    raise wrong
                image.load()
                image.thumbnail((LOGO_MAX_SIDE, LOGO_MAX_SIDE))
                out = io.BytesIO()
                image.save(out, format=kind)
        except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
            raise wrong from None
        return out.getvalue(), LOGO_FORMATS[kind]

    def save(self, commit: bool = True) -> ClinicBranding:
        branding = super().save(commit=False)
        logo = self.cleaned_data.get("logo_upload")
        if logo is not None:
            branding.logo, branding.logo_content_type = logo
        elif self.cleaned_data.get("logo_remove"):
            branding.logo, branding.logo_content_type = b"", ""
        if commit:
            branding.save()
        return branding


@admin.register(ClinicBranding)
class ClinicBrandingAdmin(admin.ModelAdmin[ClinicBranding]):
    """One row: the clinic as patients see it on pages and in emails."""

    form = ClinicBrandingForm
    fieldsets = [
        (None, {"fields": ["name", "logo_upload", "logo_remove"]}),
        (_("Colours"), {"fields": ["colour_accent", "colour_ink"]}),
        (_("Contact"), {"fields": ["address", "phone", "email", "website"]}),
        (
            _("Privacy notice"),
            {
                "fields": [
                    "controller",
                    "privacy_contact",
                    "retention_months",
                    "privacy_notice_en",
                    "privacy_notice_tr",
                    "privacy_notice_version",
                ]
            },
        ),
        (_("Staff sign-in"), {"fields": ["staff_idle_minutes", "staff_session_hours"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not (
            ClinicBranding.objects.exists()
        )

    def has_delete_permission(
        self, request: HttpRequest, obj: ClinicBranding | None = None
    ) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(ClinicAdminOnlyAdmin[ApiToken]):
    """Every login's API tokens, for clinic admins to see and revoke. No screen
    shows a key (the row has none) or its digest; a token is made by its owner on
    the staff pages, where its key is shown once."""

    list_display = [
        "name", "user", "prefix", "created_at", "expires_at", "last_used_at",
        "status",
    ]  # fmt: skip
    list_select_related = ["user"]
    list_filter = ["expires_at", "revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    fields = readonly_fields = (
        "user", "name", "prefix", "status", "created_at", "expires_at",
        "last_used_at", "revoked_at", "revoked_by",
    )  # fmt: skip
    actions = ["revoke"]

    @admin.display(description=_("status"))
    def status(self, token: ApiToken) -> str:
        return str(token.status.label)

    @admin.action(description=_("Revoke the selected tokens"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        by = request.user
        if not isinstance(by, User):  # the admin's pages are for signed-in users
            return
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            api_token_revoke(token_id=token.pk, by=by)
            self.log_change(request, token, [{"changed": {"fields": ["revoked_at"]}}])
        done = ngettext(
            "%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)
        )
        self.message_user(request, done % {"count": len(tokens)})

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Kept, revoked, as the record of who could reach the API when.
        return False

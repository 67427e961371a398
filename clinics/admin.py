"""The clinic's own screens, and the location scope every screen of location data
uses."""

from typing import Any, TypeVar

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from clinics.models import Location, Practitioner, StaffMember
from clinics.selectors import Role, location_scoped, staff_role_get

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


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
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

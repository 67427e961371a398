from django.contrib import admin
from django.http import HttpRequest

from clinics.admin import LocationScopedAdmin
from leads.models import (
    AssignmentRule,
    Lead,
    LeadEvent,
    LeadTreatment,
    StaffNotification,
)
from leads.webhooks import admin as webhooks_admin  # noqa: F401  (registers its screens)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(LocationScopedAdmin[AssignmentRule]):
    list_display = [
        "name", "position", "location", "language", "treatment", "strategy",
        "is_active",
    ]  # fmt: skip
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "strategy", "location"]
    filter_horizontal = ["coordinators"]
    readonly_fields = ["last_assigned"]


class LeadEventInline(admin.TabularInline[LeadEvent, Lead]):
    model = LeadEvent
    fk_name = "lead"
    fields = readonly_fields = (
        "created_at",
        "kind",
        "actor",
        "submission",
        "text",
        "data",
    )
    extra = 0
    can_delete = False
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False


class LeadTreatmentInline(admin.TabularInline[LeadTreatment, Lead]):
    model = LeadTreatment
    fields = readonly_fields = ("treatment", "outcome")
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Lead | None = None) -> bool:
        return False


@admin.register(Lead)
class LeadAdmin(LocationScopedAdmin[Lead]):
    """Read-only: leads change through the staff API, where the pipeline is enforced.

    Staff see the leads of their own locations; clinic admins and superusers all.
    """

    list_display = [
        "full_name", "status", "priority", "score", "owner", "location",
        "first_contact_due_at", "first_contacted_at", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "priority", "location", "escalation"]
    search_fields = ["full_name", "email", "phone"]
    list_select_related = ["owner", "location"]
    readonly_fields = [field.name for field in Lead._meta.fields]
    inlines = [LeadTreatmentInline, LeadEventInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: Lead | None = None
    ) -> bool:
        return False


@admin.register(StaffNotification)
class StaffNotificationAdmin(LocationScopedAdmin[StaffNotification]):
    location_field = "lead__location"
    list_display = [
        "kind", "recipient", "lead", "status", "attempts", "last_error", "created_at",
    ]  # fmt: skip
    list_filter = ["status", "kind"]
    list_select_related = ["recipient", "lead"]
    readonly_fields = [field.name for field in StaffNotification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

from django.contrib import admin

from leads.models import Location, Practitioner, StaffMember
from leads.webhooks import admin as webhooks_admin  # noqa: F401  (registers its screens)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin[Location]):
    list_display = ["name", "slug", "time_zone", "is_active"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin[Practitioner]):
    list_display = ["display_name", "kind", "is_active"]
    list_filter = ["kind", "is_active", "locations"]
    filter_horizontal = ["locations"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin[StaffMember]):
    list_display = ["user", "role", "is_on_duty"]
    list_filter = ["role", "is_on_duty", "locations"]
    filter_horizontal = ["locations"]
    list_select_related = ["user"]

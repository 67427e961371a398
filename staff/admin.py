"""Staff sign-in devices in the admin: a clinic admin sees who has an
authenticator app and removes a lost one (its owner sets up a new one at their
next sign-in); nobody sees or copies a device's key."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.admin import ClinicAdminOnlyAdmin

# django-otp's own screen shows each key as a QR code: replaced.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(ClinicAdminOnlyAdmin[TOTPDevice]):
    list_display = ["user", "name", "confirmed", "last_used_at"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = readonly_fields = ("user", "name", "confirmed", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

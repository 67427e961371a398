"""Admin screens for webhook endpoints and their deliveries.

Endpoints are configuration; deliveries are a read-only log with one action, "Retry
now", which goes through the service like every other change.
"""

import json
import secrets
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.db.models import Field, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from clinics.admin import ClinicAdminOnlyAdmin, LocationScopedAdmin
from leads.models import WebhookDelivery, WebhookEndpoint
from leads.webhooks.events import EVENT_TYPES
from leads.webhooks.services import webhook_delivery_retry


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _label(name: str) -> StrOrPromise:
    """The model field's name, which a form field declared here does not get."""
    field = cast("Field[Any, Any]", WebhookEndpoint._meta.get_field(name))
    return capfirst(field.verbose_name)


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    # Checkboxes of the registered event types: a typo cannot subscribe to nothing.
    event_types = forms.MultipleChoiceField(
        label=_label("event_types"),
        choices=[
            (name, format_lazy("{}: {}", name, kind.label))
            for name, kind in EVENT_TYPES.items()
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    url = forms.URLField(label=_label("url"), max_length=500, assume_scheme="https")
    secret = forms.CharField(
        label=_label("secret"),
        initial=_new_secret,
        min_length=16,
        help_text=WebhookEndpoint._meta.get_field("secret").help_text,
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "name",
            "url",
            "secret",
            "event_types",
            "may_receive_health_data",
            "is_active",
        ]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ClinicAdminOnlyAdmin[WebhookEndpoint]):
    form = WebhookEndpointForm
    list_display = [
        "name",
        "url",
        "subscribed_to",
        "may_receive_health_data",
        "is_active",
    ]
    list_filter = ["is_active", "may_receive_health_data"]

    @admin.display(description=_("event types"))
    def subscribed_to(self, endpoint: WebhookEndpoint) -> str:
        return ", ".join(endpoint.event_types)


DELIVERY_FIELDS = (
    "code",
    "endpoint",
    "event_type",
    "lead",
    "status",
    "attempts",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "created_at",
    "sent_at",
    "body_json",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LocationScopedAdmin[WebhookDelivery]):
    location_field = "lead__location"
    list_display = [
        "code",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # Deliveries are written by the events that cause them.

    def has_change_permission(
        self, request: HttpRequest, obj: WebhookDelivery | None = None
    ) -> bool:
        # The list's actions need "change"; a delivery itself is never edited.
        return obj is None and super().has_change_permission(request)

    @admin.display(description=_("body (screening outcomes are added at sending)"))
    def body_json(self, delivery: WebhookDelivery) -> str:
        return format_html(
            "<pre>{}</pre>", json.dumps(delivery.body, indent=2, ensure_ascii=False)
        )

    @admin.action(description=_("Retry now"), permissions=["change"])
    def retry_now(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]
    ) -> None:
        retried = sum(
            webhook_delivery_retry(delivery=delivery) for delivery in queryset
        )
        skipped = len(queryset) - retried
        self.message_user(
            request,
            _("%(count)s deliveries will be sent now.") % {"count": retried},
        )
        if skipped:
            self.message_user(
                request,
                _("%(count)s sent or being sent, left alone.") % {"count": skipped},
                level=messages.WARNING,
            )

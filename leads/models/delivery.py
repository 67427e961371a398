import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import OutboxRow, outbox_due_index
from leads.models.lead import Lead


class StaffNotification(OutboxRow):
    """An email to a staff member about a lead, sent through the outbox
    (core.outbox) once the change that causes it commits."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("A lead was assigned to you")
        OVERDUE = "overdue", _("Your lead is overdue")
        ESCALATED = "escalated", _("A lead is overdue")
        TASK = "task", _("A task for you")

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("recipient"),
    )
    lead = models.ForeignKey(
        Lead,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("lead"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("staff notification")
        verbose_name_plural = _("staff notifications")
        indexes = [outbox_due_index("staff_notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"


class WebhookEndpoint(models.Model):
    """An integrator's URL that receives lead events, signed with its secret."""

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("address (URL)"), max_length=500)
    secret = models.CharField(
        _("shared secret"),
        max_length=200,
        help_text=_("Shared secret for the X-Clinic-Signature HMAC-SHA256 header."),
    )
    event_types = models.JSONField(
        _("event types"),
        default=list,
        help_text=_('Event types to send, e.g. ["lead.created"].'),
    )
    may_receive_health_data = models.BooleanField(
        _("may receive health data"),
        default=False,
        help_text=_(
            "Only for a system covered by the clinic's data processing agreement: "
            "adds screening outcomes to the body."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(OutboxRow):
    """One event for one endpoint: its body, the last attempt's answer, and the
    outcome; sent through the outbox (core.outbox)."""

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    event_type = models.CharField(_("event type"), max_length=60)
    lead = models.ForeignKey(
        Lead,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("lead"),
    )
    # The event without health data; added at sending when the endpoint may have it.
    body = models.JSONField(_("body"))
    last_status_code = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [outbox_due_index("webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint}"

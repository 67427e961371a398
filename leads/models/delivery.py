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

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [outbox_due_index("staff_notification_due_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"


class WebhookEndpoint(models.Model):
    """An integrator's URL that receives lead events, signed with its secret."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500)
    secret = models.CharField(
        max_length=200,
        help_text=_("Shared secret for the X-Clinic-Signature HMAC-SHA256 header."),
    )
    event_types = models.JSONField(
        default=list, help_text=_('Event types to send, e.g. ["lead.created"].')
    )
    may_receive_health_data = models.BooleanField(
        default=False,
        help_text=_(
            "Only for a system covered by the clinic's data processing agreement: "
            "adds screening outcomes to the body."
        ),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(OutboxRow):
    """One event for one endpoint: its body, the last attempt's answer, and the
    outcome; sent through the outbox (core.outbox)."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=60)
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The event without health data; added at sending when the endpoint may have it.
    body = models.JSONField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [outbox_due_index("webhook_delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint}"

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leads.models.lead import Lead


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed: gave up")


class OutboxEmail(models.Model):
    """An email written in the transaction of the change that causes it and sent by a
    Celery task; a periodic task sends what the broker never delivered. The row is
    claimed before sending (leads.services.outbox), so it goes out once."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]


class StaffNotification(OutboxEmail):
    """An email to a staff member about a lead."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", _("A lead was assigned to you")
        OVERDUE = "overdue", _("Your lead is overdue")
        ESCALATED = "escalated", _("A lead is overdue")
        TASK = "task", _("A task for you")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)

    class Meta(OutboxEmail.Meta):
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="staff_notification_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient}"


class PatientMessage(OutboxEmail):
    """An email to the person behind a lead, in their language, about their enquiry
    (not marketing). One per lead, kind and topic: never sent twice."""

    class Kind(models.TextChoices):
        TREATMENT_DECLINED = "treatment_declined", _("A treatment is not offered")

    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, related_name="patient_messages"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    # What the message is about, e.g. the treatment code a physician declined.
    topic = models.CharField(max_length=60, blank=True)

    class Meta(OutboxEmail.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "kind", "topic"], name="patient_message_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="patient_message_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.lead}"


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


class WebhookDelivery(models.Model):
    """One event for one endpoint: its body, each attempt's result, and the outcome."""

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
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="webhook_delivery_due_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to {self.endpoint}"

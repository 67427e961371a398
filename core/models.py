import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class WorkerCheck(models.Model):
    """A round trip from a web request through the broker to a worker and back.

    Staff start one from the status page to see that background work really runs.
    """

    code = models.UUIDField(_("code"), default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("worker check")
        verbose_name_plural = _("worker checks")

    def __str__(self) -> str:
        return f"Worker check {self.code}"

    @property
    def round_trip_ms(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.requested_at).total_seconds() * 1000


# A worker process's heartbeat source is this and its name (core.workers).
WORKER_HEARTBEAT_PREFIX = "worker:"


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive (one row per source)."""

    # "beat", or "worker:<identity>" for each worker process (core.workers).
    source = models.CharField(_("source"), max_length=250, unique=True)
    seen_at = models.DateTimeField(_("last seen at"))
    worker = models.CharField(_("worker"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.source} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed: gave up")
    # Not a failure: no longer wanted (the person asked to stop, a later change
    # overtook it).
    SKIPPED = "skipped", _("Not sent: no longer wanted")


# The statuses of a row the outbox may still send (core.outbox).
DELIVERY_ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class OutboxRow(models.Model):
    """Something to send to the outside world, written in the transaction of the
    change that causes it and sent by core.outbox after that commits.

    `next_attempt_at` is when the row is next due: a retry's time while pending, the
    end of the claim's lease while sending. `claimed_by` names the worker of the last
    claim (core.workers), whose stopped heartbeat frees the row before the lease
    ends; empty for a claim made outside a worker. Each concrete row also has its own
    `created_at`, from which the backlog's age is read (core.selectors).
    """

    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)

    class Meta:
        abstract = True


def outbox_due_index(name: str) -> models.Index:
    """The partial index the due sweep reads: only rows that may still be sent."""
    return models.Index(
        fields=["next_attempt_at"],
        condition=models.Q(status__in=[status.value for status in DELIVERY_ACTIVE]),
        name=name,
    )


class ConfigStamp(models.Model):
    """One row whose token changes with every change to the configuration the
    requests cache (core.config_cache); written by database triggers only."""

    # The row's id is 1 (core.config_cache).
    token = models.CharField(_("token"), max_length=32)

    class Meta:
        verbose_name = _("configuration stamp")
        verbose_name_plural = _("configuration stamps")

    def __str__(self) -> str:
        return self.token

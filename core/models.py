import uuid

from django.conf import settings
from django.db import models


class WorkerCheck(models.Model):
    """A round trip from a web request through the broker to a worker and back.

    Staff start one from the status page to see that background work really runs.
    """

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"Worker check {self.code}"

    @property
    def round_trip_ms(self) -> float | None:
        if self.completed_at is None:
            return None
        return (self.completed_at - self.requested_at).total_seconds() * 1000


class Heartbeat(models.Model):
    """The last time a periodic process proved it was alive (one row per source)."""

    source = models.CharField(max_length=50, unique=True)
    seen_at = models.DateTimeField()
    worker = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.source} at {self.seen_at:%Y-%m-%d %H:%M:%S}"

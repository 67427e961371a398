"""State changes of the operations helpers: worker checks and heartbeats."""

import datetime as dt

from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.utils import timezone

from core.models import Heartbeat, WorkerCheck
from core.queueing import enqueue_on_commit
from core.tasks import worker_check_complete_task


@transaction.atomic(durable=True)
def worker_check_request(*, requested_by: User | AnonymousUser) -> WorkerCheck:
    """Record a new worker check and enqueue its task once the row is committed."""
    check = WorkerCheck.objects.create(
        requested_by=requested_by if requested_by.is_authenticated else None
    )
    enqueue_on_commit(worker_check_complete_task, check.pk)
    return check


def worker_check_complete(*, check_id: int, worker: str) -> bool:
    """Mark a check as done by `worker`; only the first completion counts.

    Idempotent: a redelivered task finds the row already completed and changes nothing.
    Returns whether this call completed it.
    """
    claimed = WorkerCheck.objects.filter(pk=check_id, completed_at__isnull=True).update(
        completed_at=timezone.now(), worker=worker[:200]
    )
    return claimed == 1


def heartbeat_record(*, source: str, worker: str) -> None:
    """Note that `source` is alive now; running twice only moves the time forward."""
    Heartbeat.objects.update_or_create(
        source=source, defaults={"seen_at": timezone.now(), "worker": worker[:200]}
    )


def heartbeat_prune(*, prefix: str, older_than: dt.timedelta) -> int:
    """Delete the heartbeats whose source starts with `prefix`, unseen for `older_than`
    (workers long gone); how many."""
    cutoff = timezone.now() - older_than
    deleted, _ = Heartbeat.objects.filter(
        source__startswith=prefix, seen_at__lt=cutoff
    ).delete()
    return deleted

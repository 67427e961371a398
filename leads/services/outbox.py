"""Sending outbox emails (staff notifications, patient messages): claim, send, record.

A row is written in the transaction of the change that causes it and sent by a task
after that commits. The row is the work: `outbox_email_due` finds again whatever is
due, which covers a broker that was down at commit, a worker that died mid-send, and
retries. At least once, never concurrently: a worker claims the row (pending, or
sending with an expired lease) before sending, so a redelivered or duplicate task
finds nothing to do. A worker that dies after the mail server accepted the message
but before the row says "sent" leaves it to be sent again when the lease runs out.
"""

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.mail import send_mail
from django.db.models import F, QuerySet
from django.utils import timezone

from leads.models import DeliveryStatus
from leads.models.delivery import OutboxEmail

logger = logging.getLogger(__name__)

# Longer than any one send takes (EMAIL_TIMEOUT is seconds): a row still "sending"
# after its lease belonged to a worker that died, and is sent again.
SEND_LEASE = dt.timedelta(minutes=5)
# Attempts before giving up: with the backoff below, about four hours of retries.
MAX_ATTEMPTS = 8
RETRY_FIRST_DELAY = dt.timedelta(minutes=1)
RETRY_MAX_DELAY = dt.timedelta(hours=1)
SEND_DUE_BATCH = 500

_ACTIVE = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)

Row = TypeVar("Row", bound=OutboxEmail)


@dataclass(frozen=True)
class Email:
    subject: str
    body: str
    to: str


class Unsendable(Exception):
    """The row can never be sent (e.g. no address): it is marked failed, not retried."""


def outbox_email_send(
    model: type[Row],
    *,
    pk: int,
    compose: Callable[[Row], Email],
    related: tuple[str, ...] = (),
) -> Row | None:
    """Claim row `pk` of `model` when due, send what `compose` makes of it, and
    record the outcome; return the row when this call sent it.

    Every claim counts as an attempt; a mail error is retried with backoff, and the
    row is failed after MAX_ATTEMPTS, or at once when `compose` raises Unsendable.
    """
    now = timezone.now()
    claimed = model._default_manager.filter(
        pk=pk, status__in=_ACTIVE, next_attempt_at__lte=now
    ).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + SEND_LEASE,
    )
    if not claimed:
        return None
    row = model._default_manager.select_related(*related).get(pk=pk)
    # The attempt number identifies this claim: a later claim (after this lease ran
    # out) increments it, and this worker's outcome no longer applies.
    mine = model._default_manager.filter(
        pk=pk, status=DeliveryStatus.SENDING, attempts=row.attempts
    )
    if row.attempts > MAX_ATTEMPTS:
        mine.update(
            status=DeliveryStatus.FAILED,
            last_error=f"gave up: {MAX_ATTEMPTS} attempts did not finish",
        )
        return None
    try:
        email = compose(row)
    except Unsendable as reason:
        mine.update(status=DeliveryStatus.FAILED, last_error=str(reason)[:500])
        logger.warning(
            "%s not sent: %s", model.__name__, reason, extra={"outbox_id": pk}
        )
        return None
    try:
        send_mail(email.subject, email.body, None, [email.to])
    except OSError as error:  # smtplib.SMTPException is an OSError
        _retry_or_fail(mine, model=model, pk=pk, attempts=row.attempts, error=error)
        return None
    mine.update(status=DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")
    return row


def outbox_email_due(model: type[OutboxEmail], *, now: dt.datetime) -> list[int]:
    """The ids of `model`'s rows that are due, oldest first, at most SEND_DUE_BATCH:
    pending with their time come (never enqueued, or waiting for a retry), or
    sending with the lease over (the worker died)."""
    return list(
        model._default_manager.filter(status__in=_ACTIVE, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:SEND_DUE_BATCH]
    )


def retry_delay(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped."""
    return min(RETRY_FIRST_DELAY * (1 << max(attempts - 1, 0)), RETRY_MAX_DELAY)


def _retry_or_fail(
    mine: QuerySet[Any],
    *,
    model: type[OutboxEmail],
    pk: int,
    attempts: int,
    error: OSError,
) -> None:
    """Back to pending after a backoff, or failed once MAX_ATTEMPTS are used up."""
    last_error = f"{type(error).__name__}: {error}"[:500]
    if attempts >= MAX_ATTEMPTS:
        mine.update(status=DeliveryStatus.FAILED, last_error=last_error)
        logger.error(
            "%s failed after %s attempts: %s",
            model.__name__,
            attempts,
            type(error).__name__,
            extra={"outbox_id": pk},
        )
        return
    mine.update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=timezone.now() + retry_delay(attempts),
        last_error=last_error,
    )

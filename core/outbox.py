"""The outbox engine: claim a due row, do what the caller says, record the outcome.

A row (core.models.OutboxRow) is written in the transaction of the change that causes
it and handed to a worker after that commits. The row is the work: `outbox_due` finds
again whatever is due, which covers a broker that was down at commit, a worker that
died mid-send, and retries. The engine knows nothing of email or HTTP: the caller
supplies `send` (what to do with the claimed row) and the exceptions that are
transient (worth another attempt).

Delivery is at least once, never concurrently. A worker claims the row with a
conditional UPDATE (pending, or sending with its lease over) before sending, so a
redelivered or duplicate task finds nothing to do. The claim records the worker's
name (core.workers); a row claimed by a worker whose heartbeat stopped is free
again as soon as that worker is taken for dead (WORKER_DEAD_AFTER_INTERVALS
heartbeat intervals), not only when the lease runs out.

The duplicate window: a worker that dies after the receiver accepted but before the
row says "sent" leaves the row claimed; once the worker is taken for dead (or the
lease runs out) the row is claimed and sent again, the same message each time.
Receivers of something sent twice must cope (a Message-ID, an event UID, a webhook
event id). A worker alive but unable to write its heartbeat for that long (its
database away) may have its claim taken over while it still sends: a duplicate in
the same window, whose outcome is not recorded (the attempt number).

A batch (`outbox_send_batch`) keeps these guarantees row by row: it claims its due
rows in one statement (SELECT ... FOR UPDATE SKIP LOCKED, then one UPDATE; a row
another claim holds is skipped) and reads them in one query, then records each
row's outcome before sending the next, so a worker killed mid-batch leaves at most
one row sent but not recorded (the same window as one row), and the rows it had
not reached yet come back untried. Those outcome commits do not wait for the
disk (synchronous_commit off): a crash of PostgreSQL itself, unlike one of the
worker, may forget the last fraction of a second of them, and those rows are sent
again, the same message each time. A batch out of time hands its untried rows
back (pending, their attempt not counted).
"""

import datetime as dt
import logging
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.apps import apps
from django.db import Error as DatabaseFailure
from django.db import InterfaceError, connection, transaction
from django.db import OperationalError as DatabaseUnavailable
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from core.models import (
    DELIVERY_ACTIVE,
    WORKER_HEARTBEAT_PREFIX,
    DeliveryStatus,
    Heartbeat,
    OutboxRow,
)
from core.workers import worker_dead_after, worker_identity

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=OutboxRow)

# What an outbox task retries through Celery (autoretry_for): the database or the
# broker away for a moment. A failed send is not among them: it is on the row.
TASK_RETRY_FOR: tuple[type[Exception], ...] = (
    DatabaseUnavailable,
    InterfaceError,
    BrokerUnavailable,
)
# A mail server refusing, or unreachable (smtplib.SMTPException is an OSError).
MAIL_ERRORS: tuple[type[Exception], ...] = (OSError,)
DUE_BATCH = 500
_ERROR_LENGTH = 500


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a row is tried: each claim is an attempt; after a
    transient failure the wait doubles from `first_delay` up to `max_delay`; the
    row is failed once `max_attempts` are used up."""

    max_attempts: int = 8
    first_delay: dt.timedelta = dt.timedelta(minutes=1)
    max_delay: dt.timedelta = dt.timedelta(hours=1)
    # Longer than any one send may take: a row still "sending" after it belonged
    # to a worker that died (sooner, when that worker's heartbeat says so), or to
    # a claim made outside a worker.
    lease: dt.timedelta = dt.timedelta(minutes=5)

    def delay(self, attempts: int) -> dt.timedelta:
        """The wait after the `attempts`-th failed attempt (the cap is never below
        the first wait)."""
        doubled = self.first_delay * (1 << max(attempts - 1, 0))
        return min(doubled, max(self.max_delay, self.first_delay))


class Unsendable(Exception):
    """Raised by `send` for a row that can never be sent as it is (no address, a
    switched-off endpoint): failed at once with this reason, not retried."""


class NoLongerWanted(Unsendable):
    """Raised by `send` for a row that should not go any more (the person asked to
    stop, a later change overtook it): skipped with this reason, not a failure."""


def outbox_send(
    model: type[Row],
    *,
    pk: int,
    send: Callable[[Row], object],
    transient: tuple[type[Exception], ...],
    policy: RetryPolicy,
    related: tuple[str, ...] = (),
    record: tuple[str, ...] = (),
) -> Row | None:
    """Claim row `pk` of `model` when due, call `send` with it, and record the
    outcome; return the row as recorded (sent, pending again, or failed).

    None when this call recorded nothing: the row is gone, not due, sent, failed,
    claimed by another worker, or this claim was taken over (its lease ran out, or
    its worker was taken for dead) and
    the newer claim's outcome is the one that counts. `send` raising one of
    `transient` is retried after the policy's backoff, failed after the last
    attempt; raising Unsendable, or anything else (a bug: it would fail again),
    fails the row at once, and the unexpected exception propagates. A database
    error propagates with the row left claimed: the lease brings it back. The
    `record` fields, which `send` may set on the row (an HTTP status), are saved
    with the outcome.
    """
    now = timezone.now()
    due = model._default_manager.filter(pk=pk).filter(_due(policy=policy, now=now))
    claimed = due.filter(attempts__lt=policy.max_attempts).update(
        status=DeliveryStatus.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + policy.lease,
        claimed_by=worker_identity(),
    )
    if not claimed:
        # Not due, or due with no attempt left (failed here): nothing to send.
        _fail_exhausted(due, policy=policy)
        return None
    row = model._default_manager.select_related(*related).filter(pk=pk).first()
    if row is None:
        return None
    return _attempt(
        model,
        row,
        send=send,
        transient=transient,
        policy=policy,
        record=record,
        propagate=True,
    )


@dataclass
class BatchSent:
    """What `outbox_send_batch` did: how many rows it sent, and the ids it
    claimed but left for another batch (its time ran out), released unsent."""

    sent: int = 0
    left: list[int] = field(default_factory=list)


def outbox_send_batch(
    model: type[Row],
    *,
    pks: Collection[int],
    sender: Callable[[list[Row]], AbstractContextManager[Callable[[Row], object]]],
    transient: tuple[type[Exception], ...],
    policy: RetryPolicy,
    related: tuple[str, ...] = (),
    record: tuple[str, ...] = (),
    seconds: float | None = None,
) -> BatchSent:
    """Claim the due rows among `pks` in one statement, load them with `related` in
    one query, and send them one after another through what `sender(rows)` opens
    (one connection, what the rows share read once), recording each outcome as
    `outbox_send` does, before the next row goes.

    Each row's outcome is its own: a transient failure makes that row pending
    again after the backoff, an unsendable or skipped row is recorded so, and an
    unexpected exception fails that row only (logged); the others go on. With
    `seconds`, rows not yet tried when that time has passed are released (pending,
    due now, their attempt given back) and listed in `left`, so that a batch never
    holds a worker for long. A database error propagates: the rows not yet
    recorded stay claimed until their lease ends or their worker is taken for dead.
    """
    started = time.monotonic()
    now = timezone.now()
    done = BatchSent()
    with _commits_not_waiting_for_disk():
        claimed = _claim(model, pks=pks, policy=policy, now=now)
        if not claimed:
            return done
        rows = list(
            model._default_manager.select_related(*related)
            .filter(pk__in=claimed)
            .order_by("pk")
        )
        with sender(rows) as send:
            done = _send_rows(
                model,
                rows,
                send=send,
                transient=transient,
                policy=policy,
                record=record,
                started=started,
                seconds=seconds,
            )
    return done


def _send_rows(
    model: type[Row],
    rows: list[Row],
    *,
    send: Callable[[Row], object],
    transient: tuple[type[Exception], ...],
    policy: RetryPolicy,
    record: tuple[str, ...],
    started: float,
    seconds: float | None,
) -> BatchSent:
    """Send claimed `rows` in turn, each outcome recorded before the next."""
    done = BatchSent()
    for position, row in enumerate(rows):
        # The first row always goes: every batch makes progress.
        if position and seconds is not None and time.monotonic() - started > seconds:
            done.left = _release(model, rows[position:])
            break
        recorded = _attempt(
            model,
            row,
            send=send,
            transient=transient,
            policy=policy,
            record=record,
            propagate=False,
        )
        if recorded is not None and recorded.status == DeliveryStatus.SENT:
            done.sent += 1
    return done


def _attempt(
    model: type[Row],
    row: Row,
    *,
    send: Callable[[Row], object],
    transient: tuple[type[Exception], ...],
    policy: RetryPolicy,
    record: tuple[str, ...],
    propagate: bool,
) -> Row | None:
    """Send claimed `row` and record the outcome (see outbox_send); an unexpected
    exception fails the row and, with `propagate`, is raised, else logged."""
    pk = row.pk
    # The attempt number identifies this claim: a later claim (after this lease ran
    # out) increments it, and this worker's outcome no longer applies.
    mine = model._default_manager.filter(
        pk=pk, status=DeliveryStatus.SENDING, attempts=row.attempts
    )
    try:
        send(row)
    except NoLongerWanted as reason:
        logger.info("%s skipped: %s", model.__name__, reason, extra={"outbox_id": pk})
        return _record(mine, row, record, status=DeliveryStatus.SKIPPED, error=reason)
    except Unsendable as reason:
        logger.warning(
            "%s not sent: %s", model.__name__, reason, extra={"outbox_id": pk}
        )
        return _record(mine, row, record, status=DeliveryStatus.FAILED, error=reason)
    except transient as error:
        if row.attempts >= policy.max_attempts:
            logger.error(
                "%s failed after %s attempts: %s",
                model.__name__,
                row.attempts,
                type(error).__name__,
                extra={"outbox_id": pk},
            )
            return _record(mine, row, record, status=DeliveryStatus.FAILED, error=error)
        logger.warning(
            "%s attempt %s failed: %s",
            model.__name__,
            row.attempts,
            type(error).__name__,
            extra={"outbox_id": pk},
        )
        row.next_attempt_at = timezone.now() + policy.delay(row.attempts)
        return _record(mine, row, record, status=DeliveryStatus.PENDING, error=error)
    except DatabaseFailure:
        # The outcome cannot be recorded either: the lease brings the row back.
        raise
    except Exception as error:
        recorded = _record(mine, row, record, status=DeliveryStatus.FAILED, error=error)
        if propagate:
            raise
        logger.exception(
            "%s failed: %s",
            model.__name__,
            type(error).__name__,
            extra={"outbox_id": pk},
        )
        return recorded
    row.sent_at = timezone.now()
    return _record(mine, row, record, status=DeliveryStatus.SENT, error=None)


@contextmanager
def _commits_not_waiting_for_disk() -> Iterator[None]:
    """On PostgreSQL, let this connection's commits return before their WAL is on
    disk (synchronous_commit off) meanwhile: each outcome of a batch is its own
    commit, and waiting for a disk flush would cost more than its send. A worker
    killed changes nothing (the server has the commit); a crash of PostgreSQL
    itself may forget the last claim and outcomes (at most three wal_writer_delay,
    0.6 s by default): those rows are sent again, inside the documented duplicate
    window."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with suppress(DatabaseFailure), connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _claim(
    model: type[OutboxRow],
    *,
    pks: Collection[int],
    policy: RetryPolicy,
    now: dt.datetime,
) -> list[int]:
    """Claim the due rows among `pks` for this worker; their ids. Rows another
    claim holds at this moment are skipped (SKIP LOCKED), not waited for: that
    claim takes them."""
    due = model._default_manager.filter(pk__in=pks).filter(_due(policy=policy, now=now))
    with transaction.atomic():
        ids = list(
            due.filter(attempts__lt=policy.max_attempts)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)
        )
        if ids:
            model._default_manager.filter(pk__in=ids).update(
                status=DeliveryStatus.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=now + policy.lease,
                claimed_by=worker_identity(),
            )
    if len(ids) < len(pks):
        _fail_exhausted(due, policy=policy)
    return ids


def _release(model: type[OutboxRow], rows: list[Row]) -> list[int]:
    """Give back this claim of `rows`, untried: pending, due now, the attempt not
    counted (a row whose claim was taken over meanwhile is left alone); their ids."""
    by_attempt: dict[int, list[int]] = {}
    for row in rows:
        by_attempt.setdefault(row.attempts, []).append(row.pk)
    for attempts, ids in by_attempt.items():
        model._default_manager.filter(
            pk__in=ids, status=DeliveryStatus.SENDING, attempts=attempts
        ).update(
            status=DeliveryStatus.PENDING,
            attempts=F("attempts") - 1,
            next_attempt_at=timezone.now(),
        )
    # A row taken over meanwhile is listed too: the next batch's claim asks again.
    return [row.pk for row in rows]


def outbox_due(
    model: type[OutboxRow],
    *,
    policy: RetryPolicy,
    now: dt.datetime,
    batch: int = DUE_BATCH,
) -> list[int]:
    """The ids of `model`'s rows that are due, oldest first, at most `batch`:
    pending with their time come (never enqueued, or waiting for a retry), or
    sending with the lease over or claimed by a worker taken for dead. Due rows
    with no attempt left are failed here rather than handed out."""
    due = model._default_manager.filter(_due(policy=policy, now=now))
    _fail_exhausted(due, policy=policy)
    return list(
        due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:batch]
    )


def outbox_models() -> list[type[OutboxRow]]:
    """Every outbox table: the installed apps' concrete OutboxRow models, in app
    order. Django's model registry is the list, so core reads the apps above it
    without importing them and a new outbox table is counted without wiring."""
    return [model for model in apps.get_models() if issubclass(model, OutboxRow)]


def outbox_retry_now(model: type[OutboxRow], *, pk: int) -> bool:
    """Make a pending, failed or skipped row due now; a failed or skipped one gets
    a fresh series of attempts (a skipped one is asked again whether it is still
    wanted). A sent row, or one being sent, is left alone: False."""
    ended = [DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
    return bool(
        model._default_manager.filter(
            pk=pk, status__in=[DeliveryStatus.PENDING, *ended]
        ).update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now(),
            attempts=Case(
                When(status__in=ended, then=Value(0)),
                default=F("attempts"),
                output_field=PositiveSmallIntegerField(),
            ),
        )
    )


def _due(*, policy: RetryPolicy, now: dt.datetime) -> Q:
    """The rows that may be claimed at `now`: active with their time come, or
    claimed by a worker that has not been seen for worker_dead_after().

    A claim younger than that is never taken for abandoned: its worker may not have
    written its first heartbeat yet."""
    dead_after = worker_dead_after()
    alive = Heartbeat.objects.filter(
        source__startswith=WORKER_HEARTBEAT_PREFIX,
        worker=OuterRef("claimed_by"),
        seen_at__gte=now - dead_after,
    )
    abandoned = (
        Q(status=DeliveryStatus.SENDING)
        & ~Q(claimed_by="")
        # Claimed before now - dead_after: the lease ends that long after the claim.
        & Q(next_attempt_at__lte=now - dead_after + policy.lease)
        & Q(~Exists(alive))
    )
    return Q(status__in=DELIVERY_ACTIVE, next_attempt_at__lte=now) | abandoned


def _fail_exhausted(due: QuerySet[Any], *, policy: RetryPolicy) -> int:
    """Fail the due rows that have no attempt left; how many."""
    exhausted = due.filter(attempts__gte=policy.max_attempts)
    # Still "sending" when due: the worker of the last attempt stopped mid-send.
    stopped = exhausted.filter(status=DeliveryStatus.SENDING).update(
        status=DeliveryStatus.FAILED,
        last_error=(
            f"Gave up: the last of {policy.max_attempts} attempts did not finish "
            "(its worker stopped)."
        ),
    )
    # Pending with none left: the policy allows fewer attempts than it did.
    lowered = exhausted.update(status=DeliveryStatus.FAILED)
    return stopped + lowered


def _record(
    mine: QuerySet[Any],
    row: Row,
    record: tuple[str, ...],
    *,
    status: str,
    error: BaseException | None,
) -> Row | None:
    """Write this attempt's outcome unless its claim was taken over."""
    row.status = status
    row.last_error = "" if error is None else _error_text(error)
    fields = {field: getattr(row, field) for field in record}
    written = mine.update(
        status=row.status,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        sent_at=row.sent_at,
        **fields,
    )
    return row if written else None


def _error_text(error: BaseException) -> str:
    if isinstance(error, Unsendable):  # and NoLongerWanted
        return str(error)[:_ERROR_LENGTH]
    return f"{type(error).__name__}: {error}"[:_ERROR_LENGTH]

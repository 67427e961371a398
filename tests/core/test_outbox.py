"""The outbox engine: a row is claimed before it is sent, sent at least once and never
by two workers at a time, retried with capped doubling waits, failed after the last
attempt, and handed out again by the due sweep.

The rows are webhook deliveries, the simplest outbox model; what is "sent" is whatever
the test's sender does, which is the point: the engine knows no transport.
"""

import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from core import workers
from core.models import DeliveryStatus, Heartbeat
from core.outbox import (
    RetryPolicy,
    Unsendable,
    outbox_due,
    outbox_models,
    outbox_retry_now,
    outbox_send,
)
from core.workers import worker_dead_after, worker_heartbeat_source
from leads.models import WebhookDelivery, WebhookEndpoint

POLICY = RetryPolicy(
    max_attempts=4,
    first_delay=dt.timedelta(minutes=1),
    max_delay=dt.timedelta(minutes=3),
    lease=dt.timedelta(minutes=5),
)
PAST = dt.timedelta(seconds=-1)


class ReceiverAway(Exception):
    """The test's transient failure: the receiver may take it next time."""


class Sender:
    """Records each row it is given (its attempt number); raises what it is told."""

    def __init__(self, *raises: Exception) -> None:
        self.attempts: list[int] = []
        self.raises = list(raises)

    def __call__(self, row: WebhookDelivery) -> None:
        self.attempts.append(row.attempts)
        if self.raises:
            raise self.raises.pop(0)


def _row(**fields: Any) -> WebhookDelivery:
    endpoint, _created = WebhookEndpoint.objects.get_or_create(
        name="Receiver", url="https://receiver.example/", secret="s" * 32
    )
    return WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="lead.created", body={}, **fields
    )


def _send(
    row: WebhookDelivery,
    send: Callable[[WebhookDelivery], object],
    policy: RetryPolicy = POLICY,
) -> WebhookDelivery | None:
    return outbox_send(
        WebhookDelivery,
        pk=row.pk,
        send=send,
        transient=(ReceiverAway,),
        policy=policy,
        record=("last_status_code",),
    )


def _make_due(row: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() + PAST
    )


def _reloaded(row: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.get(pk=row.pk)


# Claiming


@pytest.mark.django_db
def test_a_due_row_is_sent_once_and_says_so() -> None:
    row = _row()
    sender = Sender()

    first = _send(row, sender)
    again = _send(_reloaded(row), sender)

    assert sender.attempts == [1]
    assert first is not None
    assert again is None
    row = _reloaded(row)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 1, "")
    assert row.sent_at is not None


@pytest.mark.django_db
def test_a_row_is_not_sent_by_a_second_worker_while_the_first_sends_it() -> None:
    row = _row()
    second = Sender()

    def first(claimed: WebhookDelivery) -> None:
        # A duplicate task arriving mid-send finds the row claimed.
        assert _send(claimed, second) is None

    assert _send(row, first) is not None
    assert second.attempts == []


@pytest.mark.django_db(transaction=True)
def test_workers_racing_for_one_row_send_it_once() -> None:
    assert connection.vendor == "postgresql"
    row = _row()
    workers = 6
    barrier = threading.Barrier(workers)
    sender = Sender()
    outcomes: list[WebhookDelivery | None] = []

    def slow_send(claimed: WebhookDelivery) -> None:
        sender(claimed)
        time.sleep(0.2)  # the others try to claim meanwhile

    def work() -> None:
        try:
            barrier.wait(timeout=10)
            outcomes.append(_send(row, slow_send))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sender.attempts == [1]
    assert len(outcomes) == workers
    assert sum(outcome is not None for outcome in outcomes) == 1
    assert _reloaded(row).status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_row_whose_worker_died_mid_send_is_sent_again_once_the_lease_runs_out() -> (
    None
):
    row = _row(
        status=DeliveryStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() + POLICY.lease,
    )
    sender = Sender()

    during_lease = _send(row, sender)
    _make_due(row)
    after_lease = _send(row, sender)

    assert during_lease is None
    assert after_lease is not None
    assert sender.attempts == [2]
    assert _reloaded(row).status == DeliveryStatus.SENT


def _claimed_by(worker: str, *, ago: dt.timedelta) -> WebhookDelivery:
    """A row `worker` claimed `ago` and is sending (its lease still running)."""
    return _row(
        status=DeliveryStatus.SENDING,
        attempts=1,
        claimed_by=worker,
        next_attempt_at=timezone.now() - ago + POLICY.lease,
    )


def _heartbeat(worker: str, *, ago: dt.timedelta) -> None:
    Heartbeat.objects.create(
        source=worker_heartbeat_source(worker),
        worker=worker,
        seen_at=timezone.now() - ago,
    )


@pytest.mark.django_db
def test_a_row_whose_worker_stopped_its_heartbeat_is_free_long_before_the_lease_ends(
    settings: Any,
) -> None:
    settings.WORKER_HEARTBEAT_SECONDS = 10
    dead_after = worker_dead_after()
    assert dead_after == dt.timedelta(seconds=30)
    # Given a worker last seen 31 s ago that claimed a row 40 s ago (lease: 5 min)
    _heartbeat("celery@a 101", ago=dead_after + dt.timedelta(seconds=1))
    row = _claimed_by("celery@a 101", ago=dt.timedelta(seconds=40))
    sender = Sender()

    # When the sweep runs and a task for the row arrives
    due = outbox_due(WebhookDelivery, policy=POLICY, now=timezone.now())
    sent = _send(row, sender)

    # Then it is handed out and sent again, as attempt 2
    assert due == [row.pk]
    assert sent is not None
    assert sender.attempts == [2]
    assert _reloaded(row).status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_row_of_a_worker_never_seen_is_free_once_the_claim_is_old_enough(
    settings: Any,
) -> None:
    settings.WORKER_HEARTBEAT_SECONDS = 10
    row = _claimed_by("celery@gone 7", ago=dt.timedelta(seconds=31))

    assert outbox_due(WebhookDelivery, policy=POLICY, now=timezone.now()) == [row.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("claimed_by", "heartbeat_ago", "claim_ago"),
    [
        # A live worker's claim waits for its lease.
        ("celery@a 101", dt.timedelta(seconds=5), dt.timedelta(seconds=60)),
        # A claim too young to judge: the worker may not have beaten yet.
        ("celery@b 102", None, dt.timedelta(seconds=20)),
        # Claimed outside a worker: only the lease ends it.
        ("", None, dt.timedelta(seconds=60)),
    ],
    ids=["live worker", "young claim", "no worker"],
)
def test_a_claim_is_kept_until_its_lease_ends_unless_its_worker_is_known_dead(
    settings: Any,
    claimed_by: str,
    heartbeat_ago: dt.timedelta | None,
    claim_ago: dt.timedelta,
) -> None:
    settings.WORKER_HEARTBEAT_SECONDS = 10
    if heartbeat_ago is not None:
        _heartbeat(claimed_by, ago=heartbeat_ago)
    row = _claimed_by(claimed_by, ago=claim_ago)
    sender = Sender()

    assert outbox_due(WebhookDelivery, policy=POLICY, now=timezone.now()) == []
    assert _send(row, sender) is None
    assert sender.attempts == []


@pytest.mark.django_db
def test_a_claim_records_the_worker_that_made_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers, "_identity", "")
    identity = workers.worker_identity_set(hostname="celery@host")
    row = _row()

    _send(row, Sender())

    assert identity == f"celery@host {os.getpid()}"
    assert _reloaded(row).claimed_by == identity


# The heartbeat writes from its own thread, through its own connection.
@pytest.mark.django_db(transaction=True)
def test_a_worker_heartbeat_is_recorded_under_its_name_until_stopped(
    settings: Any,
) -> None:
    settings.WORKER_HEARTBEAT_SECONDS = 0.05
    heartbeat = workers.WorkerHeartbeat("celery@host 42")

    heartbeat.start()
    try:
        deadline = time.monotonic() + 5
        while not Heartbeat.objects.filter(worker="celery@host 42").exists():
            assert time.monotonic() < deadline, "no heartbeat recorded"
            time.sleep(0.02)
    finally:
        heartbeat.stop()

    beat = Heartbeat.objects.get(worker="celery@host 42")
    assert beat.source == "worker:celery@host 42"


@pytest.mark.django_db
def test_a_worker_whose_lease_was_taken_over_does_not_overwrite_the_newer_outcome() -> (
    None
):
    row = _row()
    newer = Sender()

    def stale(claimed: WebhookDelivery) -> None:
        # This worker stalls past its lease; another claims the row and sends it.
        _make_due(claimed)
        assert _send(claimed, newer) is not None
        raise ReceiverAway("the stale worker's answer, late")

    assert _send(row, stale) is None

    assert newer.attempts == [2]
    row = _reloaded(row)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, "")


# Failing and retrying


@pytest.mark.django_db
def test_a_transient_failure_is_retried_after_doubling_waits_up_to_the_cap() -> None:
    row = _row()
    policy = RetryPolicy(
        max_attempts=6,
        first_delay=dt.timedelta(minutes=1),
        max_delay=dt.timedelta(minutes=3),
    )
    sender = Sender(*[ReceiverAway("503 from the receiver")] * 5)

    waits = []
    for _ in range(5):
        before = timezone.now()
        assert _send(row, sender, policy) is not None
        row = _reloaded(row)
        assert row.status == DeliveryStatus.PENDING
        waits.append(row.next_attempt_at - before)
        # Not due during the wait: a duplicate task or the sweep sends nothing.
        assert _send(row, sender, policy) is None
        _make_due(row)

    minutes = [round(wait.total_seconds() / 60) for wait in waits]
    assert minutes == [1, 2, 3, 3, 3]
    assert sender.attempts == [1, 2, 3, 4, 5]
    assert row.last_error == "ReceiverAway: 503 from the receiver"
    assert _send(row, sender, policy) is not None
    assert _reloaded(row).status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_a_row_is_failed_after_the_last_attempt_and_never_due_again() -> None:
    row = _row()
    sender = Sender(*[ReceiverAway("connection refused")] * POLICY.max_attempts)

    for _ in range(POLICY.max_attempts):
        _make_due(row)
        _send(row, sender)
    _make_due(row)

    assert _send(row, sender) is None
    assert sender.attempts == [1, 2, 3, 4]
    row = _reloaded(row)
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 4)
    assert "connection refused" in row.last_error
    assert outbox_due(WebhookDelivery, policy=POLICY, now=timezone.now()) == []


@pytest.mark.django_db
def test_a_last_attempt_whose_worker_died_is_given_up_without_sending() -> None:
    row = _row(status=DeliveryStatus.SENDING, attempts=POLICY.max_attempts)
    _make_due(row)
    sender = Sender()

    assert _send(row, sender) is None

    assert sender.attempts == []
    row = _reloaded(row)
    assert row.status == DeliveryStatus.FAILED
    assert "did not finish" in row.last_error


@pytest.mark.django_db
def test_an_unsendable_row_fails_at_once_with_the_reason() -> None:
    row = _row()
    sender = Sender(Unsendable("user 7 has no email address"))

    _send(row, sender)
    _make_due(row)
    _send(row, sender)

    assert sender.attempts == [1]
    row = _reloaded(row)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "user 7 has no email address"


@pytest.mark.django_db
def test_an_error_not_named_transient_fails_the_row_at_once_and_is_raised() -> None:
    row = _row()
    sender = Sender(KeyError("treatment_wanted"))

    with pytest.raises(KeyError):
        _send(row, sender)
    _make_due(row)
    _send(row, sender)

    assert sender.attempts == [1]
    row = _reloaded(row)
    assert row.status == DeliveryStatus.FAILED
    assert row.last_error == "KeyError: 'treatment_wanted'"


@pytest.mark.django_db
def test_a_database_error_leaves_the_row_to_its_lease_rather_than_failing_it() -> None:
    row = _row()
    sender = Sender(OperationalError("server closed the connection"))

    with pytest.raises(OperationalError):
        _send(row, sender)
    claimed = _reloaded(row)
    _make_due(row)
    _send(row, sender)

    assert claimed.status == DeliveryStatus.SENDING
    assert sender.attempts == [1, 2]
    assert _reloaded(row).status == DeliveryStatus.SENT


@pytest.mark.django_db
def test_what_the_sender_notes_on_the_row_is_kept_with_the_outcome() -> None:
    row = _row()

    def answered_503(claimed: WebhookDelivery) -> None:
        claimed.last_status_code = 503
        raise ReceiverAway("HTTP 503")

    _send(row, answered_503)

    assert _reloaded(row).last_status_code == 503


# The due sweep and "retry now"


@pytest.mark.django_db
def test_the_sweep_hands_out_due_rows_oldest_first_in_batches() -> None:
    now = timezone.now()

    def row(status: str, due_in: dt.timedelta, attempts: int = 1) -> int:
        return _row(status=status, attempts=attempts, next_attempt_at=now + due_in).pk

    retry_due = row(DeliveryStatus.PENDING, dt.timedelta(minutes=-2))
    never_sent = row(DeliveryStatus.PENDING, dt.timedelta(minutes=-3), attempts=0)
    worker_died = row(DeliveryStatus.SENDING, dt.timedelta(minutes=-1))
    row(DeliveryStatus.PENDING, dt.timedelta(minutes=1))  # waiting for its retry
    row(DeliveryStatus.SENDING, dt.timedelta(minutes=1))  # being sent
    row(DeliveryStatus.SENT, PAST)
    row(DeliveryStatus.FAILED, PAST)
    died_on_last = row(DeliveryStatus.SENDING, PAST, attempts=POLICY.max_attempts)

    assert outbox_due(WebhookDelivery, policy=POLICY, now=now, batch=2) == [
        never_sent,
        retry_due,
    ]
    assert outbox_due(WebhookDelivery, policy=POLICY, now=now) == [
        never_sent,
        retry_due,
        worker_died,
    ]
    given_up = WebhookDelivery.objects.get(pk=died_on_last)
    assert given_up.status == DeliveryStatus.FAILED
    assert "did not finish" in given_up.last_error


@pytest.mark.django_db
def test_retry_now_gives_a_failed_row_fresh_attempts_and_leaves_a_sent_one() -> None:
    failed = _row(status=DeliveryStatus.FAILED, attempts=POLICY.max_attempts)
    sent = _row(status=DeliveryStatus.SENT, attempts=1)

    assert outbox_retry_now(WebhookDelivery, pk=failed.pk) is True
    assert outbox_retry_now(WebhookDelivery, pk=sent.pk) is False

    sender = Sender()
    assert _send(failed, sender) is not None
    assert sender.attempts == [1]
    assert _reloaded(sent).status == DeliveryStatus.SENT


def test_every_outbox_table_is_known_to_the_backlog_without_being_registered() -> None:
    labels = {model._meta.label_lower for model in outbox_models()}

    assert labels >= {
        "booking.calendarsync",
        "followups.followupmessage",
        "intake.resumeemail",
        "leads.staffnotification",
        "leads.webhookdelivery",
    }

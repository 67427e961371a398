"""Follow-ups sent in batches: the due sweep hands workers batches of ids on the
"bulk" queue, each sent over one mail connection, each message once; a message due
at once (the acknowledgment) goes on the "now" queue, never behind a batch."""

import datetime as dt
import smtplib
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend
from django.test import override_settings
from django.utils import timezone

from config.celery_app import app
from core.models import DeliveryStatus
from followups import services
from followups.models import FollowUpMessage, Suppression
from followups.services import followup_messages_send, followup_send_due
from followups.tasks import followup_message_send_task, followup_messages_send_task
from intake.models import QuestionnaireVersion
from leads.models import Lead
from tests.support.submitting import lead_of, submit

pytestmark = pytest.mark.django_db


class CountedBackend(EmailBackend):
    """The test outbox, counting the connections the code opens and closes; an
    address in `refused` is refused as a mail server would (a transient error)."""

    made: list["CountedBackend"] = []
    refused: set[str] = set()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.opened = 0
        self.closed = 0
        self.sent = 0
        CountedBackend.made.append(self)

    def open(self) -> bool:
        self.opened += 1
        return False

    def close(self) -> None:
        self.closed += 1

    def send_messages(self, messages: Sequence[EmailMessage]) -> int:
        for message in messages:
            if set(message.to) & CountedBackend.refused:
                raise smtplib.SMTPRecipientsRefused(
                    {message.to[0]: (450, b"mailbox busy")}
                )
        self.sent += len(messages)
        return super().send_messages(messages)


@pytest.fixture
def backend() -> Iterator[type[CountedBackend]]:
    CountedBackend.made = []
    CountedBackend.refused = set()
    with override_settings(
        EMAIL_BACKEND="tests.followups.test_batch_send.CountedBackend"
    ):
        yield CountedBackend


def _acknowledged(published: QuestionnaireVersion, people: int) -> list[Lead]:
    """`people` submissions, their acknowledgments made and not sent yet."""
    leads = [
        lead_of(
            submit(
                published,
                full_name=f"Person Number{n}",
                email=f"person{n}@example.com",
                phone=f"0532 123 45 {n:02d}",
            )
        )
        for n in range(people)
    ]
    mail.outbox.clear()
    return leads


def _ids() -> list[int]:
    return list(FollowUpMessage.objects.order_by("pk").values_list("pk", flat=True))


def test_a_batch_sends_each_due_message_once_over_one_connection(
    published: QuestionnaireVersion, backend: type[CountedBackend]
) -> None:
    _acknowledged(published, 3)

    done = followup_messages_send(message_ids=_ids())
    (connection,) = backend.made  # one for the batch
    again = followup_messages_send(message_ids=_ids())  # a redelivered task

    assert (done.sent, done.left) == (3, [])
    assert again.sent == 0
    assert len(mail.outbox) == 3
    assert len({email.extra_headers["Message-ID"] for email in mail.outbox}) == 3
    assert (connection.sent, connection.closed) == (3, 1)  # closed at the end
    assert set(FollowUpMessage.objects.values_list("status", flat=True)) == {
        DeliveryStatus.SENT
    }


def test_a_message_another_worker_claimed_is_not_sent_twice(
    published: QuestionnaireVersion, backend: type[CountedBackend]
) -> None:
    _acknowledged(published, 2)
    taken, free = _ids()
    FollowUpMessage.objects.filter(pk=taken).update(
        status=DeliveryStatus.SENDING,
        attempts=1,
        next_attempt_at=timezone.now() + dt.timedelta(minutes=5),
        claimed_by="another worker 1234",
    )

    done = followup_messages_send(message_ids=[taken, free])

    assert done.sent == 1
    (email,) = mail.outbox
    assert email.extra_headers["Message-ID"] == f"<followup.{free}@{_domain()}>"
    assert FollowUpMessage.objects.get(pk=taken).status == DeliveryStatus.SENDING


def test_a_message_refused_in_a_batch_is_retried_alone_and_the_others_go(
    published: QuestionnaireVersion, backend: type[CountedBackend]
) -> None:
    first, refused, third = _acknowledged(published, 3)
    backend.refused = {refused.email}

    done = followup_messages_send(message_ids=_ids())

    assert done.sent == 2
    assert sorted(email.to[0] for email in mail.outbox) == sorted(
        [first.email, third.email]
    )
    waiting = FollowUpMessage.objects.get(lead=refused)
    assert waiting.status == DeliveryStatus.PENDING
    assert waiting.attempts == 1
    assert waiting.next_attempt_at > timezone.now()  # after the backoff
    assert "SMTPRecipientsRefused" in waiting.last_error
    # The refusal closed the connection; the next message opened it again.
    assert backend.made[0].closed >= 2


def test_a_message_no_longer_wanted_is_skipped_and_the_others_go(
    published: QuestionnaireVersion, backend: type[CountedBackend]
) -> None:
    stopped, other = _acknowledged(published, 2)
    Suppression.objects.create(
        email_key=stopped.email_key,
        scope=Suppression.Scope.ALL,
        reason=Suppression.Reason.BOUNCED,
    )

    done = followup_messages_send(message_ids=_ids())

    assert done.sent == 1
    assert [email.to[0] for email in mail.outbox] == [other.email]
    skipped = FollowUpMessage.objects.get(lead=stopped)
    assert skipped.status == DeliveryStatus.SKIPPED
    assert "asked to stop" in skipped.last_error


def test_a_batch_out_of_time_sends_one_and_hands_the_rest_on_untried(
    published: QuestionnaireVersion,
    backend: type[CountedBackend],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    _acknowledged(published, 3)
    first, *rest = _ids()

    with (
        override_settings(FOLLOWUP_BATCH_SECONDS=0),
        mock.patch.object(followup_messages_send_task, "apply_async") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        done = followup_messages_send(message_ids=[first, *rest])

    assert (done.sent, done.left) == (1, rest)
    enqueued.assert_called_once()
    assert enqueued.call_args.args[0] == (rest,)
    handed_on = FollowUpMessage.objects.filter(pk__in=rest)
    assert {(m.status, m.attempts) for m in handed_on} == {(DeliveryStatus.PENDING, 0)}


def test_the_due_sweep_hands_out_batches_of_ids_on_the_bulk_queue(
    published: QuestionnaireVersion,
) -> None:
    _acknowledged(published, 5)

    with (
        override_settings(FOLLOWUP_BATCH_SIZE=2),
        mock.patch.object(services, "SWEEP_SPREAD", 1),
        mock.patch.object(followup_messages_send_task, "apply_async") as enqueued,
    ):
        assert followup_send_due() == 5

    ids = _ids()
    assert [call.args[0] for call in enqueued.call_args_list] == [
        (ids[0:2],),
        (ids[2:4],),
        (ids[4:5],),
    ]
    assert _queue_of(followup_messages_send_task.name) == "bulk"


def test_a_short_backlog_is_spread_over_batches_for_workers_to_share(
    published: QuestionnaireVersion,
) -> None:
    _acknowledged(published, 3)

    with (
        mock.patch.object(services, "SWEEP_SPREAD", 2),
        mock.patch.object(followup_messages_send_task, "apply_async") as enqueued,
    ):
        followup_send_due()

    ids = _ids()
    assert [call.args[0] for call in enqueued.call_args_list] == [
        (ids[0:2],),
        (ids[2:3],),
    ]


def test_an_acknowledgment_is_handed_to_the_now_queue_at_commit(
    published: QuestionnaireVersion,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with (
        mock.patch.object(followup_message_send_task, "delay") as enqueued,
        django_capture_on_commit_callbacks(execute=True),
    ):
        lead = lead_of(submit(published))

    acknowledgment = FollowUpMessage.objects.get(lead=lead)
    enqueued.assert_called_once_with(acknowledgment.pk)
    assert _queue_of(followup_message_send_task.name) == "now"


def test_many_messages_made_at_once_go_in_batches_not_ahead_of_the_next_patient(
    published: QuestionnaireVersion,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    many = list(range(1, services.AT_ONCE_ALONE + 2))

    with (
        mock.patch.object(followup_message_send_task, "delay") as alone,
        mock.patch.object(followup_messages_send_task, "apply_async") as batched,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.followup_messages_enqueue(message_ids=many)

    alone.assert_not_called()
    assert [call.args[0] for call in batched.call_args_list] == [(many,)]


def test_a_plain_worker_consumes_every_queue() -> None:
    declared = {queue.name for queue in app.conf.task_queues}
    assert {"now", "bulk", app.conf.task_default_queue} <= declared
    # Each bound by its own name: a task reaches one queue, not all of them.
    assert {queue.routing_key for queue in app.conf.task_queues} == declared


def _queue_of(task_name: str) -> str:
    route = app.amqp.router.route({}, task_name, (), {})
    return str(route["queue"].name)


def _domain() -> str:
    from django.conf import settings

    return str(settings.CALENDAR_UID_DOMAIN)

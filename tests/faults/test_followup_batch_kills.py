"""A worker killed with SIGKILL in the middle of 500 due follow-ups, again and
again: a new worker sends what is left, none is lost, and a duplicate is only the
one send a kill cut between the server's acceptance and the row's update, with the
same Message-ID as its twin."""

import time
from collections import Counter
from contextlib import AbstractContextManager
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from core.models import DeliveryStatus
from followups.models import FollowUpMessage
from intake.models import QuestionnaireVersion
from tests.faults.conftest import fault_report
from tests.support.smtp import SmtpServer
from tests.support.submitting import lead_of, submit
from tests.support.worker import WorkerProcess, running_worker, worker_kill

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MESSAGES = 500
KILLS = 3
# Its own queue, so that no other worker of the test session takes a task.
BROKER = "redis://127.0.0.1:6379/13"
SWEEP = "followups.tasks.followup_send_due_task"
# A row left "sending" by a killed worker is taken again this soon.
LEASE_SECONDS = "2"


def _message_ids(smtp: SmtpServer) -> list[str]:
    return [str(message["Message-ID"]) for message in smtp.messages()]


def _wait_for_more(smtp: SmtpServer, count: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(smtp.messages()) < count:
        assert time.monotonic() < deadline, f"{len(smtp.messages())} of {count} came"
        time.sleep(0.05)


def test_kills_mid_batch_lose_nothing_and_duplicate_at_most_once_each(
    published: QuestionnaireVersion, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    smtp_server.clear()
    lead = lead_of(submit(published))
    acknowledgment = FollowUpMessage.objects.get()
    FollowUpMessage.objects.bulk_create(
        FollowUpMessage(
            lead=lead,
            step=acknowledgment.step,
            event=acknowledgment.event,
            occurrence=f"batch:{n}",
            category=acknowledgment.category,
            next_attempt_at=timezone.now(),
        )
        for n in range(MESSAGES - 1)
    )

    def worker(name: str) -> AbstractContextManager[WorkerProcess]:
        return running_worker(
            database_name=connection.settings_dict["NAME"],
            log_path=tmp_path / f"{name}.log",
            email_url=smtp_server.url,
            broker_url=BROKER,
            concurrency=1,
            environment={"FOLLOWUP_SEND_LEASE_SECONDS": LEASE_SECONDS},
        )

    for kill in range(1, KILLS + 1):
        with worker(f"killed-{kill}") as doomed:
            doomed.send_task(SWEEP)
            # Killed once it has sent another stretch of the batch.
            _wait_for_more(smtp_server, len(smtp_server.messages()) + 60)
            worker_kill(doomed)

    with worker("survivor") as survivor:
        deadline = time.monotonic() + 120
        unsent = FollowUpMessage.objects.exclude(status=DeliveryStatus.SENT)
        while unsent.exists():
            assert time.monotonic() < deadline, f"{unsent.count()} never sent"
            survivor.send_task(SWEEP)  # as beat does each minute
            time.sleep(1)

    expected = {row.message_id for row in FollowUpMessage.objects.all()}
    received = Counter(_message_ids(smtp_server))
    lost = expected - set(received)
    duplicated = sum(count - 1 for count in received.values())
    fault_report(
        "followup-batch-sigkill",
        messages=MESSAGES,
        kills=KILLS,
        lost=len(lost),
        duplicated=duplicated,
    )
    assert len(expected) == MESSAGES
    assert lost == set()
    assert set(received) == expected  # a duplicate is its twin's Message-ID
    assert duplicated <= KILLS
    assert set(FollowUpMessage.objects.values_list("status", flat=True)) == {
        DeliveryStatus.SENT
    }

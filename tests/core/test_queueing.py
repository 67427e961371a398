"""Work handed to Celery after commit never fails the request that committed it."""

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from kombu.exceptions import OperationalError

from core.models import WorkerCheck
from core.services import worker_check_request
from core.tasks import worker_check_complete_task


@pytest.mark.parametrize(
    "failure",
    [
        OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        FileNotFoundError("var/broker/queue"),
    ],
    ids=["redis-down", "broker-folder-gone"],
)
@pytest.mark.django_db
def test_a_broker_that_is_down_leaves_the_committed_row_waiting_and_says_so(
    failure: Exception,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broker_down(*ids: int) -> None:
        raise failure

    monkeypatch.setattr(worker_check_complete_task, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        check = worker_check_request(requested_by=AnonymousUser())

    assert WorkerCheck.objects.filter(pk=check.pk).exists()
    assert "waits for the periodic resend" in caplog.text
    assert type(failure).__name__ in caplog.text

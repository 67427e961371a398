import time

import pytest
from rest_framework.test import APIClient

from core.models import WorkerCheck
from tests.support.factories import StaffUserFactory
from tests.support.worker import WorkerProcess

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _wait_for_completion(check: WorkerCheck, timeout: float = 30) -> WorkerCheck:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check.refresh_from_db()
        if check.completed_at is not None:
            return check
        time.sleep(0.1)
    raise AssertionError("the worker did not complete the check in time")


def test_a_task_enqueued_by_a_web_request_runs_in_a_separate_worker_process(
    celery_worker: WorkerProcess,
) -> None:
    # Given a staff member signed in to the API
    client = APIClient()
    client.force_authenticate(StaffUserFactory.create())

    # When they start a worker check over HTTP
    response = client.post("/api/v1/ops/worker-checks")

    # Then the worker process, over Redis, marks the PostgreSQL row done
    assert response.status_code == 202
    check = _wait_for_completion(WorkerCheck.objects.get(code=response.json()["id"]))
    assert check.worker == celery_worker.node_name
    # and the worker's log lines for it carry the web request's id.
    request_id = response["X-Request-ID"]
    assert f'"request_id": "{request_id}", "message": "worker check completed"' in (
        celery_worker.log()
    )
    polled = client.get(f"/api/v1/ops/worker-checks/{check.code}").json()
    assert polled["completed_at"] is not None
    assert polled["round_trip_ms"] >= 0

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core import services
from core.models import Heartbeat, WorkerCheck
from core.tasks import heartbeat_record_task, worker_check_complete_task

pytestmark = pytest.mark.django_db


def test_requesting_a_worker_check_enqueues_its_task_only_after_commit(
    staff_user, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        check = services.worker_check_request(requested_by=staff_user)

    assert len(callbacks) == 1
    assert check.completed_at is None


def test_a_redelivered_worker_check_task_changes_nothing_the_second_time() -> None:
    check = WorkerCheck.objects.create()

    worker_check_complete_task.run(check.pk)
    first = WorkerCheck.objects.get(pk=check.pk)
    worker_check_complete_task.run(check.pk)
    second = WorkerCheck.objects.get(pk=check.pk)

    assert first.completed_at is not None
    assert second.completed_at == first.completed_at


def test_a_worker_check_task_for_a_deleted_row_finishes_quietly() -> None:
    worker_check_complete_task.run(987654)

    assert not WorkerCheck.objects.exists()


def test_worker_check_api_is_for_staff_only(api_client: APIClient, user) -> None:
    anonymous = api_client.post("/api/v1/ops/worker-checks")
    api_client.force_authenticate(user)
    not_staff = api_client.post("/api/v1/ops/worker-checks")

    # 401 with the token challenge (WWW-Authenticate: Token): sign in, then ask.
    assert anonymous.status_code == 401
    assert anonymous["WWW-Authenticate"] == "Token"
    assert anonymous.json()["code"] == "not_authenticated"
    assert not_staff.status_code == 403
    assert not_staff.json()["code"] == "permission_denied"
    assert not WorkerCheck.objects.exists()


def test_worker_check_api_returns_202_and_the_check_to_poll(
    api_client: APIClient, staff_user
) -> None:
    api_client.force_authenticate(staff_user)

    created = api_client.post("/api/v1/ops/worker-checks")
    polled = api_client.get(f"/api/v1/ops/worker-checks/{created.json()['id']}")

    assert created.status_code == 202
    assert polled.status_code == 200
    assert polled.json()["completed_at"] is None


def test_an_unknown_worker_check_answers_404_in_the_error_shape(
    api_client: APIClient, staff_user
) -> None:
    api_client.force_authenticate(staff_user)

    response = api_client.get(f"/api/v1/ops/worker-checks/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json() == {
        "message": "No such worker check.",
        "code": "not_found",
        "fields": {},
    }


def test_status_page_sends_anonymous_visitors_to_sign_in(client: Client) -> None:
    response = client.get("/staff/status/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_status_page_shows_each_check_and_a_test_task_button(
    client: Client, staff_user
) -> None:
    client.force_login(staff_user)

    response = client.get("/staff/status/")

    assert response.status_code == 200
    page = response.content.decode()
    for name in ("database", "broker", "cache", "scheduler"):
        assert name in page
    assert "Send a test task" in page


def test_status_page_button_sends_a_test_task_and_refreshes_until_done(
    client: Client, staff_user, django_capture_on_commit_callbacks
) -> None:
    client.force_login(staff_user)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/staff/status/worker-check", follow=True)

    assert len(callbacks) == 1
    assert WorkerCheck.objects.count() == 1
    page = response.content.decode()
    assert "Waiting for a worker" in page
    assert 'http-equiv="refresh"' in page


def test_the_status_page_shows_the_scheduler_ok_once_a_heartbeat_arrives(
    client: Client, staff_user
) -> None:
    client.force_login(staff_user)
    before = client.get("/staff/status/").content.decode()

    heartbeat_record_task.run()
    heartbeat_record_task.run()

    after = client.get("/staff/status/").content.decode()
    assert "No heartbeat yet" in before
    assert "No heartbeat yet" not in after
    assert "last beat 0 s ago" in after
    assert Heartbeat.objects.count() == 1

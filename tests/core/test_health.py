import datetime as dt
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from clinics.models import Location
from config.celery_app import app as celery_app
from core import selectors
from core.models import DeliveryStatus
from tests.support.outbox import calendar_sync_make, staff_notification_make

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_without_touching_dependencies(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_names_each_dependency_and_answers_200_when_all_respond(
    client: Client,
) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "cache"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_answers_503_naming_the_broker_when_it_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port nothing listens on, with a password that must not leak into the body.
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://:s3cret@127.0.0.1:1/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert "s3cret" not in response.content.decode()


def test_health_endpoints_are_never_cached(client: Client) -> None:
    response = client.get("/readyz")

    assert "no-cache" in response["Cache-Control"]


def test_probes_answer_whatever_host_the_balancer_sends_and_over_plain_http(
    client: Client,
) -> None:
    with override_settings(
        ALLOWED_HOSTS=["clinic.example.com"], SECURE_SSL_REDIRECT=True
    ):
        alive = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
        ready = client.get("/readyz", HTTP_HOST="10.0.0.7:8000")
        page = client.get("/en/", HTTP_HOST="10.0.0.7:8000")

    assert alive.status_code == 200
    assert ready.status_code == 200
    assert page.status_code == 400  # everything else still checks the host


def test_probes_answer_head_requests(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.head("/readyz").status_code == 200


def test_readyz_fails_when_the_filesystem_broker_folder_is_missing(
    client: Client, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nowhere")
    options = {"data_folder_in": missing, "data_folder_out": missing}

    with override_settings(CELERY_BROKER_TRANSPORT_OPTIONS=options):
        response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {
        "ok": False,
        "duration_ms": response.json()["checks"]["broker"]["duration_ms"],
        "error": "FileNotFoundError",
    }


def test_readyz_reports_the_outbox_backlog_and_its_oldest_row(
    client: Client, location: Location
) -> None:
    empty = client.get("/readyz").json()["outbox"]
    staff_notification_make(age=dt.timedelta(minutes=10))
    staff_notification_make(age=dt.timedelta(minutes=1))
    staff_notification_make(age=dt.timedelta(hours=2), status=DeliveryStatus.SENT)
    calendar_sync_make(location, age=dt.timedelta(minutes=3))

    response = client.get("/readyz")

    assert empty == {"pending": 0, "oldest_age_seconds": None}
    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert outbox["pending"] == 3
    assert 600 <= outbox["oldest_age_seconds"] < 660


def test_readyz_stays_ready_when_the_outbox_cannot_be_read(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(**_: object) -> None:
        raise OperationalError("relation does not exist")

    monkeypatch.setattr(selectors, "outbox_backlog_list", unreadable)

    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["outbox"] == {
        "pending": None,
        "oldest_age_seconds": None,
        "error": "OperationalError",
    }


def test_readyz_does_not_wait_on_the_outbox_when_the_database_is_down(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down() -> None:
        raise OperationalError("connection refused")

    def must_not_run(**_: object) -> None:
        raise AssertionError("the outbox was read with the database down")

    monkeypatch.setattr(selectors, "_check_database", down)
    monkeypatch.setattr(selectors, "outbox_backlog_list", must_not_run)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["outbox"]["error"] == "database unavailable"

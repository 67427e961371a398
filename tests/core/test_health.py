from pathlib import Path

import pytest
from django.test import Client, override_settings

from config.celery_app import app as celery_app

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

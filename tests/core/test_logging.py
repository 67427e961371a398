import json
import logging
import sys
from typing import Any

import pytest
from django.test import Client

from config.celery_app import app as celery_app
from core.logs import JsonFormatter, RequestIdFilter
from core.requestid import current_request_id


def _format(record: logging.LogRecord) -> dict[str, object]:
    RequestIdFilter().filter(record)
    entry: dict[str, object] = json.loads(JsonFormatter().format(record))
    return entry


def _record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("test", logging.INFO, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    return record


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client: Client) -> None:
    response = client.get("/healthz")

    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_a_well_formed_incoming_request_id_is_kept_and_a_hostile_one_replaced(
    client: Client,
) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-1234abcd"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "x\nInjected: 1"})

    assert kept["X-Request-ID"] == "lb-1234abcd"
    assert "\n" not in replaced["X-Request-ID"]
    assert len(replaced["X-Request-ID"]) == 32


def test_log_lines_are_json_with_the_current_request_id() -> None:
    token = current_request_id.set("req-abc12345")
    try:
        entry = _format(_record("lead %s assigned", 42))
    finally:
        current_request_id.reset(token)

    assert entry["message"] == "lead 42 assigned"
    assert entry["request_id"] == "req-abc12345"
    assert entry["level"] == "INFO"


def test_log_lines_keep_safe_ids_and_drop_any_other_extra_data() -> None:
    entry = _format(
        _record(
            "submitted", submission_id=7, email="ayse@example.com", request=object()
        )
    )

    assert entry["submission_id"] == 7
    assert "ayse@example.com" not in json.dumps(entry)
    assert "request" not in entry


def test_a_logged_exception_keeps_its_traceback_but_not_its_message() -> None:
    email = "ayse" + "@example.com"  # data, as a variable: not in the source line
    try:
        raise ValueError(f"date of birth 1990-02-31 for {email} is invalid")
    except ValueError:
        record = logging.LogRecord(
            "test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    entry = _format(record)

    assert entry["exception"] == "ValueError"
    assert "test_logging.py" in str(entry["traceback"])
    assert "ayse@example.com" not in json.dumps(entry)


def test_a_task_published_during_a_request_carries_its_request_id() -> None:
    captured: dict[str, object] = {}

    def capture(headers: dict[str, object] | None = None, **_: object) -> None:
        captured.update(headers or {})

    from celery import signals

    signals.before_task_publish.connect(capture, weak=False)
    token = current_request_id.set("req-trace0001")
    try:
        with celery_app.connection_for_write() as connection:
            celery_app.send_task(
                "core.tasks.heartbeat_record_task",
                connection=connection,
                queue="unused",
            )
    finally:
        current_request_id.reset(token)
        signals.before_task_publish.disconnect(capture)
        with celery_app.connection_for_write() as connection:
            channel: Any = connection.default_channel
            channel.queue_purge("unused")

    assert captured["request_id"] == "req-trace0001"

import json
import logging
import sys
from typing import Any

import pytest
from django.test import Client

from config.celery_app import app as celery_app
from core.logs import JsonFormatter, RequestIdFilter, TextFormatter
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
    response = client.get("/en/")

    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_a_well_formed_incoming_request_id_is_kept_and_a_hostile_one_replaced(
    client: Client,
) -> None:
    kept = client.get("/en/", headers={"X-Request-ID": "lb-1234abcd"})
    replaced = client.get("/en/", headers={"X-Request-ID": "x\nInjected: 1"})

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


@pytest.mark.django_db
def test_each_request_writes_one_access_line_naming_the_view_not_the_path(
    client: Client, staff_user, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(staff_user)
    check_code = "0b7b7c0e-1c52-4a3f-9d0e-6a1f2f9c1a11"

    with caplog.at_level(logging.INFO):
        response = client.get(f"/api/v1/ops/worker-checks/{check_code}")

    access = [_format(r) for r in caplog.records if r.name == "core.access"]
    django_lines = [_format(r) for r in caplog.records if r.name == "django.request"]
    assert len(access) == 1
    assert access[0]["view"] == "v1:worker-check-detail"
    assert access[0]["status_code"] == 404
    # Django's own "Not Found" line, written after the middleware, has the same id.
    for entry in access + django_lines:
        assert entry["request_id"] == response["X-Request-ID"]
        assert check_code not in json.dumps(entry)


def test_django_not_found_lines_leave_out_the_path_that_may_hold_a_token() -> None:
    record = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s",
        ("/en/resume/signed-token-abc/",), None,
    )  # fmt: skip

    entry = _format(record)

    assert entry["message"] == "Not Found"
    assert "signed-token" not in json.dumps(entry)


@pytest.mark.parametrize(
    ("logger", "message", "args", "kept"),
    [
        (
            "django.security.csrf",
            "Forbidden (%s): %s",
            ("CSRF cookie not set.", "/en/resume/signed-token-abc/"),
            "Forbidden (CSRF cookie not set.)",
        ),
        (
            "celery.app.trace",
            "Task %(name)s[%(id)s] retry: %(exc)s",
            ({"name": "send", "id": "42", "exc": "SMTP refused ayse@example.com"},),
            "Task send[42] retry",
        ),
    ],
)
def test_django_and_celery_lines_drop_the_path_or_exception_text_they_end_with(
    logger: str, message: str, args: tuple[object, ...], kept: str
) -> None:
    record = logging.LogRecord(
        logger, logging.WARNING, __file__, 1, message, args, None
    )

    json_entry = _format(record)
    text_line = TextFormatter().format(record)

    assert json_entry["message"] == kept
    assert text_line.endswith(kept)
    for secret in ("signed-token", "ayse@example.com"):
        assert secret not in json.dumps(json_entry)
        assert secret not in text_line


def test_the_text_format_also_leaves_out_exception_messages() -> None:
    email = "ayse" + "@example.com"
    try:
        raise ValueError(f"bad {email}")
    except ValueError:
        record = logging.LogRecord(
            "test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    line = TextFormatter().format(record)

    assert line.rstrip().endswith("ValueError")
    assert email not in line

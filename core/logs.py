"""Structured logs: a JSON object a line (or text for a terminal), with request ids.

Health answers, names and contact details never reach a log line. Code logs ids; both
formatters write only the message and a short list of known-safe fields, never the
request object or arbitrary `extra` values; they cut the part of Django's and Celery's
own messages that can quote a path (which may hold a signed token) or an exception's
text (which can quote the value that caused it); and they write a traceback without
the exception's message.
"""

import json
import logging
import traceback
from datetime import UTC, datetime

from core.requestid import current_request_id

# Extra record attributes that may be logged: ids, counts, timings and codes only.
SAFE_EXTRA_FIELDS = (
    "status_code",
    "method",
    "view",
    "duration_ms",
    "task_id",
    "task_name",
    "submission_id",
    "lead_id",
    "check_id",
    "code",
)
# Loggers whose messages end in ": <path>" or ": <exception text>"; what comes before
# the first colon ("Not Found", "Forbidden (CSRF cookie not set.)", "Task x[id] retry")
# says what happened.
_TRAILING_DATA_LOGGERS = ("django.request", "django.security", "celery.app.trace")


def safe_message(record: logging.LogRecord) -> str:
    message = record.getMessage()
    if record.name.startswith(_TRAILING_DATA_LOGGERS):
        return message.split(":", 1)[0]
    return message


def safe_traceback(record: logging.LogRecord) -> tuple[str, str] | None:
    """The exception's type and its traceback, without the exception's message."""
    if not record.exc_info or record.exc_info[0] is None:
        return None
    exc_type, _, tb = record.exc_info
    return exc_type.__qualname__, "".join(traceback.format_tb(tb))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", current_request_id.get()),
            "message": safe_message(record),
        }
        for field in SAFE_EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        exception = safe_traceback(record)
        if exception:
            entry["exception"], entry["traceback"] = exception
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """The same fields as JsonFormatter, as a line a person reads in a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).astimezone().strftime("%H:%M:%S")
        request_id = getattr(record, "request_id", current_request_id.get())
        line = (
            f"{time} {record.levelname:<7} {record.name} [{request_id}] "
            f"{safe_message(record)}"
        )
        exception = safe_traceback(record)
        if exception:
            line += f"\n{exception[1]}{exception[0]}"
        return line

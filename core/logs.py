"""Structured logging: one JSON object a line, each with the request id.

Health answers, names and contact details never reach a log line: code logs ids, and
this formatter writes only the message and a short list of known-safe fields, never the
request object or arbitrary `extra` values that could carry personal data.
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


def _message_without_path(record: logging.LogRecord) -> str:
    """Django's request logger writes "Not Found: <path>"; the path may hold a token.

    The access log line of the same request id names the view instead.
    """
    message = record.getMessage()
    if record.name == "django.request":
        return message.split(":", 1)[0]
    return message


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
            "message": _message_without_path(record),
        }
        for field in SAFE_EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The traceback names code, not data. The exception's message is left out
            # because it can quote the values that caused it (an IntegrityError names
            # the duplicate email, a ValueError the bad date of birth).
            exc_type, _, tb = record.exc_info
            entry["exception"] = exc_type.__qualname__
            entry["traceback"] = "".join(traceback.format_tb(tb))
        return json.dumps(entry, default=str)

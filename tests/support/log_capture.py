"""What reaches the logs and the broker, captured for a search for personal data.

The web side's lines are formatted by the project's JSON formatter, as the console
handler writes them; the broker's commands are read with Redis MONITOR, so that the
tasks a worker enqueues are seen as well as the test process's own.
"""

import base64
import binascii
import logging
import re
import threading
import unicodedata
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings

from core.logs import JsonFormatter, RequestIdFilter

_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# A kombu message's body, base64 in the Redis transport's JSON envelope (whose quotes
# MONITOR shows escaped).
_BASE64_BODY = re.compile(r'body\\*"\s*:\s*\\*"([A-Za-z0-9+/=]{8,})')
MONITOR_STOP_SECONDS = 10


def readable(text: str) -> str:
    """`text` with JSON's \\uXXXX escapes turned back into the characters: the
    formatter writes ASCII, so "Zümrüt" is in a log line as "Z\\u00fcmr\\u00fct"."""
    return _UNICODE_ESCAPE.sub(lambda match: chr(int(match[1], 16)), text)


def ascii_folded(text: str) -> str:
    """ "Kaplanoğlu" as "Kaplanoglu": a name can leak in a slug or a file name."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ı", "i"))
    return decomposed.encode("ascii", "ignore").decode()


class LogRecorder(logging.Handler):
    """Each record, formatted by the JSON formatter as the console writes it."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestIdFilter())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def recording_logs() -> Iterator[LogRecorder]:
    """Record what this process logs, at the levels the settings configure: on the
    root logger and on each logger the settings keep from propagating to it."""
    recorder = LogRecorder()
    own = [
        name
        for name, config in settings.LOGGING.get("loggers", {}).items()
        if config.get("propagate", True) is False
    ]
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in own)]
    for logger in loggers:
        logger.addHandler(recorder)
    try:
        yield recorder
    finally:
        for logger in loggers:
            logger.removeHandler(recorder)


@dataclass
class BrokerMonitor:
    """The commands the broker's Redis database receives, as MONITOR shows them."""

    url: str
    commands: list[str] = field(default_factory=list)
    _sentinel: str = field(default_factory=lambda: f"monitor-stop-{uuid.uuid4().hex}")
    _ready: threading.Event = field(default_factory=threading.Event)

    @property
    def database(self) -> int:
        return int(urlsplit(self.url).path.strip("/") or 0)

    def _listen(self) -> None:
        client = redis.Redis.from_url(self.url)
        with client.monitor() as monitor:
            self._ready.set()
            while True:
                command = monitor.next_command()
                text = str(command.get("command", ""))
                if self._sentinel in text:
                    return
                # One Redis serves several databases (other test sessions').
                if int(command.get("db", -1)) == self.database:
                    self.commands.append(text)

    @contextmanager
    def running(self) -> Iterator["BrokerMonitor"]:
        thread = threading.Thread(target=self._listen, daemon=True)
        thread.start()
        if not self._ready.wait(MONITOR_STOP_SECONDS):
            raise RuntimeError(f"MONITOR did not start on {self.url}")
        try:
            yield self
        finally:
            redis.Redis.from_url(self.url).echo(self._sentinel)
            thread.join(MONITOR_STOP_SECONDS)

    def texts(self) -> list[str]:
        """Each command, then each message body in it decoded from base64."""
        found = []
        for command in self.commands:
            found.append(command)
            for encoded in _BASE64_BODY.findall(command):
                try:
                    found.append(base64.b64decode(encoded).decode("utf-8", "replace"))
                except (binascii.Error, ValueError):
                    continue
        return found


@dataclass(frozen=True)
class Leak:
    """A line of a source, and the values found in it."""

    source: str
    line: str
    values: tuple[str, ...]

    def __str__(self) -> str:
        at = self.line.casefold().find(self.values[0].casefold())
        start = max(at - 300, 0)
        shown = ", ".join(repr(value) for value in self.values)
        return (
            f"{shown} in the {self.source}:\n"
            f"    ...{self.line[start : at + len(self.values[0]) + 300]}..."
        )


def leaks_find(
    values: Iterable[str], sources: Mapping[str, Sequence[str]]
) -> list[Leak]:
    """Each line of a source in which a value appears, case-insensitively, once
    the line's JSON escapes are read back; longest values first."""
    found = []
    wanted = sorted({value for value in values if value}, key=len, reverse=True)
    for source, lines in sources.items():
        for raw in lines:
            line = readable(raw)
            folded = line.casefold()
            hits = tuple(value for value in wanted if value.casefold() in folded)
            if hits:
                found.append(Leak(source, line, hits))
    return found


def lines_of(*texts: str) -> list[str]:
    return [line for text in texts for line in text.splitlines()]


def as_text(value: Any) -> str:
    return readable(repr(value))

"""An SMTP handler for benchmarks: notes each message's arrival and Message-ID in
one line of a file, and keeps nothing else (a Maildir writing thousands of files
would be what is measured).

`python -m aiosmtpd -n -l 127.0.0.1:PORT -c bench.smtp_sink.Sink FILE`
"""

from __future__ import annotations

import re
import time
from typing import Any

MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class Sink:
    """Accepts every message; appends "<unix time> <Message-ID>" per message."""

    def __init__(self, path: str) -> None:
        self.log = open(path, "a", buffering=1)  # noqa: SIM115 (open for the process)

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        message_id = found.group(1).decode() if found else "-"
        self.log.write(f"{time.time():.6f} {message_id}\n")
        return "250 OK"

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> Sink:
        return cls(*args)


def arrivals(path: str) -> list[tuple[float, str]]:
    """What the sink has noted so far: (arrival, Message-ID) in order."""
    try:
        with open(path) as lines:
            return [
                (float(at), message_id)
                for at, _, message_id in (
                    line.rstrip("\n").partition(" ") for line in lines
                )
                if message_id
            ]
    except FileNotFoundError:
        return []

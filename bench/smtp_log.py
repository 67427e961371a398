"""An aiosmtpd handler that notes when each message arrived, for bench/speed_to_lead.py.

Run as `python -m aiosmtpd -n -l 127.0.0.1:PORT -c bench.smtp_log.ArrivalLog FILE`.
Each message accepted appends one JSON line to FILE: the time it arrived
(`time.time()`, once the whole message is in, just before the 250), its recipients,
Subject and Message-ID, and the bench's person number found in its text ("Bench
Person 12": the patient's name, which the coordinator's notification names too).
The message itself is not kept.
"""

from __future__ import annotations

import json
import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

PERSON = re.compile(r"Bench Person (\d+)")


class ArrivalLog:
    def __init__(self, path: str) -> None:
        self.path = Path(path)

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> ArrivalLog:
        """aiosmtpd's -c hook: the one argument is the file to append to."""
        if len(args) != 1:
            parser.error("bench.smtp_log.ArrivalLog takes the file to append to")
        return cls(args[0])

    async def handle_DATA(  # noqa: N802 - aiosmtpd calls it by this name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        arrived = time.time()
        raw = envelope.content
        message = message_from_bytes(
            raw if isinstance(raw, bytes) else raw.encode(), policy=policy.default
        )
        assert isinstance(message, EmailMessage)
        found = PERSON.search(f"{message['Subject']}\n{_text(message)}")
        record = {
            "time": arrived,
            "to": list(envelope.rcpt_tos),
            "subject": str(message["Subject"] or ""),
            "message_id": str(message["Message-ID"] or ""),
            "person": int(found.group(1)) if found else None,
        }
        with self.path.open("a") as log:
            log.write(json.dumps(record) + "\n")
        return "250 Message accepted for delivery"


def _text(message: EmailMessage) -> str:
    """The plain-text part, decoded; "" when there is none."""
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        return ""
    try:
        return str(body.get_content())
    except (KeyError, LookupError):
        return ""


def arrivals(path: Path) -> list[dict[str, Any]]:
    """Every arrival noted so far in `path`."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

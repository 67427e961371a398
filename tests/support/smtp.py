"""A real SMTP server process (aiosmtpd) that keeps each message in a Maildir."""

import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

from tests.support.processes import free_port

READY_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class SmtpServer:
    port: int
    maildir: Path

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def messages(self) -> list[Message]:
        return [message for _key, message in mailbox.Maildir(self.maildir).items()]

    def clear(self) -> None:
        mailbox.Maildir(self.maildir).clear()

    def wait_for(self, *, to: str | None = None, timeout: float = 30) -> Message:
        """The first message (to `to`, when given) to arrive within `timeout` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages():
                if to is None or message["To"] == to:
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no email {f'to {to} ' if to else ''}arrived in time")


def subject_of(message: Message) -> str:
    """The subject as a person reads it (headers arrive MIME-encoded)."""
    return str(make_header(decode_header(message["Subject"])))


def body_of(message: Message) -> str:
    """The decoded text of a single-part message."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


@contextmanager
def running_smtp_server(
    maildir: Path, *, refuse_first: int = 0, answer_after: float = 0
) -> Iterator[SmtpServer]:
    """Start aiosmtpd in its own process; yield it once it accepts connections.
    `refuse_first`: answer that many messages with 451 (try again later) first.
    `answer_after`: keep each message, then wait that many seconds before 250."""
    server = SmtpServer(free_port(), maildir)
    if refuse_first:
        handler = [
            "tests.support.smtp_flaky.FlakyMailbox", str(maildir), str(refuse_first)
        ]  # fmt: skip
    elif answer_after:
        handler = [
            "tests.support.smtp_flaky.SlowMailbox", str(maildir), str(answer_after)
        ]  # fmt: skip
    else:
        handler = ["aiosmtpd.handlers.Mailbox", str(maildir)]
    command = [
        sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{server.port}",
        "-c", *handler,
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", server.port), 0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "the SMTP server did not start: "
                        f"{process.stderr.read().decode() if process.stderr else ''}"
                    ) from None
                time.sleep(0.05)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)

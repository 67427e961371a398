"""A real HTTP server that plays an integrator's webhook receiver, in a thread.

It answers each POST with the next status of a script (the last one repeats), keeps
every request, checks the signature as docs/webhooks.md tells receivers to, and
accepts each event id once, as an at-least-once receiver must.
"""

import hashlib
import hmac
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    signature_valid: bool
    received_at: float  # time.monotonic()


@dataclass
class WebhookReceiver:
    secret: str
    statuses: Sequence[int]
    url: str = ""
    requests: list[ReceivedRequest] = field(default_factory=list)
    # Event ids accepted (answered 2xx with a valid signature), in order, each once.
    accepted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Seconds between keeping a request and answering it.
    answer_after: float = 0

    def received(self) -> list[ReceivedRequest]:
        with self.lock:
            return list(self.requests)


def signature_is_valid(secret: str, header: str, body: bytes) -> bool:
    """A receiver's check: `t=<ts>,v1=<hex>` is HMAC-SHA256 of "<ts>." + body."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in parts or "v1" not in parts:
        return False
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            valid = signature_is_valid(
                receiver.secret, self.headers.get("X-Clinic-Signature", ""), body
            )
            with receiver.lock:
                index = min(len(receiver.requests), len(receiver.statuses) - 1)
                status = receiver.statuses[index] if valid else 401
                receiver.requests.append(
                    ReceivedRequest(
                        path=self.path,
                        headers=dict(self.headers.items()),
                        body=body,
                        status=status,
                        signature_valid=valid,
                        received_at=time.monotonic(),
                    )
                )
                event_id = self.headers.get("X-Clinic-Event-Id", "")
                if 200 <= status < 300 and event_id not in receiver.accepted:
                    receiver.accepted.append(event_id)
            time.sleep(receiver.answer_after)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # Quiet test output.

    return Handler


@contextmanager
def running_webhook_receiver(
    *, secret: str, statuses: Sequence[int] = (200,), answer_after: float = 0
) -> Iterator[WebhookReceiver]:
    """Serve on 127.0.0.1 (a free port) until the block ends; `answer_after`: keep
    each request, then wait that many seconds before answering."""
    receiver = WebhookReceiver(
        secret=secret, statuses=statuses, answer_after=answer_after
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/clinic"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

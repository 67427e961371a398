"""A private redis-server process for fault tests: stopped and started on one port.

Never the machine's Redis (6379), which other test runs share: a free port, no
persistence, bound to 127.0.0.1, so a restarted server comes back empty, as one
that lost its data would.
"""

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path

import redis

from tests.support.processes import free_port

READY_TIMEOUT_SECONDS = 10
STOP_TIMEOUT_SECONDS = 10


class Stop(Enum):
    """How the server goes away: asked to stop, told to quit at once, or killed."""

    TERMINATE = "SIGTERM"
    SHUTDOWN = "redis-cli shutdown nosave"
    KILL = "SIGKILL"


def redis_server_installed() -> bool:
    return shutil.which("redis-server") is not None


class RedisProcess:
    """One redis-server on a fixed port; `stop()` and `start()` it at will."""

    def __init__(self, port: int, log_path: Path) -> None:
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server; return once it answers PING."""
        assert not self.running, "redis-server is already running"
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.log_path.parent),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if not self.running or time.monotonic() > deadline:
                    self._kill()
                    raise RuntimeError(
                        f"redis-server did not start:\n{self.log_path.read_text()}"
                    ) from None
                time.sleep(0.05)
            finally:
                client.close()

    def stop(self, how: Stop = Stop.TERMINATE) -> None:
        """Make the server go away `how`; return once its process has exited."""
        assert self._process is not None, "redis-server is not running"
        if how is Stop.SHUTDOWN:
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                check=False,
                capture_output=True,
                timeout=STOP_TIMEOUT_SECONDS,
            )
        elif how is Stop.KILL:
            self._process.kill()
        else:
            self._process.terminate()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill()
        self._process = None

    def _kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self._process = None


@contextmanager
def running_redis(log_path: Path) -> Iterator[RedisProcess]:
    """A started private Redis; whatever state a test leaves it in, it ends stopped."""
    server = RedisProcess(free_port(), log_path)
    server.start()
    try:
        yield server
    finally:
        server._kill()

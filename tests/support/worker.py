"""A real Celery worker process for integration tests, on Redis, against the test DB."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kombu import Connection
from kombu.exceptions import OperationalError
from kombu.pidbox import Mailbox

from config.celery_app import app as celery_app
from tests.support.processes import process_stop

READY_TIMEOUT_SECONDS = 60
# Webhook retries a second apart, so that a test of three attempts takes seconds.
WORKER_WEBHOOK_RETRY_BASE_SECONDS = 1


@dataclass(frozen=True)
class WorkerProcess:
    node_name: str
    log_path: Path
    # None: the test settings' broker, which the test process's app also uses.
    broker_url: str | None = None
    process: subprocess.Popen[bytes] | None = field(
        default=None, repr=False, compare=False
    )

    def log(self) -> str:
        return self.log_path.read_text()

    def log_summary(self) -> str:
        """For a failure message: the critical lines (e.g. why the worker ended),
        then the end of the log."""
        lines = self.log().splitlines()
        critical = [line[:1500] for line in lines if '"level": "CRITICAL"' in line]
        return "\n".join([*critical[-3:], "...", *lines[-15:]])[-6000:]

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    @contextmanager
    def broker(self) -> Iterator[Connection]:
        """A connection to the broker this worker consumes from."""
        with celery_app.connection_for_write(self.broker_url) as connection:
            yield connection

    def send_task(self, name: str, *args: Any) -> str:
        """Send task `name` through this worker's broker, as beat would; its id."""
        with self.broker() as connection:
            return celery_app.send_task(name, args, connection=connection).id

    def control(self, command: str, timeout: float) -> list[Any]:
        """Send a control command (`celery inspect` and friends) to this worker over
        its broker; the replies that came within `timeout` s."""
        conf = celery_app.conf
        with self.broker() as connection:
            # Not celery_app.control: it publishes through the app's producer pool,
            # on the test settings' broker, whatever connection it is given.
            mailbox = Mailbox(
                conf.control_exchange,
                type="fanout",
                connection=connection,
                accept=conf.accept_content,
                serializer=conf.task_serializer,
            )
            return mailbox.call([self.node_name], command, timeout=timeout) or []

    def answers_ping(self) -> bool:
        """Whether the worker replies over its broker within half a second."""
        try:
            return bool(self.control("ping", timeout=0.5))
        except OperationalError:  # the broker itself does not answer (yet)
            return False

    def stats(self) -> dict[str, Any]:
        """What the worker reports of itself (`celery inspect stats`): pid, totals."""
        replies = self.control("stats", timeout=2)
        assert replies, f"{self.node_name} did not answer `inspect stats`"
        return dict(replies[0][self.node_name])

    def wait_until_answering(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                raise RuntimeError(f"the worker exited:\n{self.log_summary()}")
            if self.answers_ping():
                return
        raise RuntimeError(f"the worker did not answer a ping:\n{self.log_summary()}")

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        """Wait until the worker logs `text`, e.g. "[<task id>] succeeded"."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log():
                return
            if self.exited():
                raise RuntimeError(f"the worker exited:\n{self.log_summary()}")
            time.sleep(0.1)
        raise AssertionError(f"{text!r} is not in the worker's log after {timeout} s")


def database_url(database_name: str) -> str:
    """The test settings' DATABASE_URL, pointed at the test database pytest made."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database_name}"))


@contextmanager
def running_worker(
    *,
    database_name: str,
    log_path: Path,
    email_url: str,
    broker_url: str | None = None,
    cache_url: str | None = None,
    include: Sequence[str] = (),
    concurrency: int = 2,
    environment: Mapping[str, str] | None = None,
) -> Iterator[WorkerProcess]:
    """Start `celery worker` in its own process; yield it once it answers a ping.

    The worker uses the test settings against `database_name`, so what a test
    commits is what the worker reads, and sends email to the SMTP server at
    `email_url`. `broker_url` and `cache_url` replace the test settings' Redis;
    `include` names modules of extra tasks for it to run; `environment`, more
    variables for it.
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(database_name),
        "EMAIL_URL": email_url,
        "TEST_EMAIL_OVER_SMTP": "true",
        "WEBHOOK_RETRY_BASE_SECONDS": str(WORKER_WEBHOOK_RETRY_BASE_SECONDS),
        **(environment or {}),
    }
    if broker_url is not None:
        env["CELERY_BROKER_URL"] = broker_url
    if cache_url is not None:
        env["REDIS_URL"] = cache_url
    node_name = f"tests-{os.getpid()}-{log_path.parent.name}@localhost"
    # Tasks left in the queue by an earlier, interrupted run must not reach it.
    with celery_app.connection_for_write(broker_url) as connection:
        celery_app.control.purge(connection=connection)  # through `connection`
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--hostname", node_name, "--pool", "prefork", "--concurrency", str(concurrency),
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        *(f"--include={module}" for module in include),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    worker = WorkerProcess(node_name, log_path, broker_url, process)
    try:
        worker.wait_until_answering()
        yield worker
    finally:
        process_stop(process)


def worker_kill(worker: WorkerProcess) -> None:
    """SIGKILL the worker and its pool's processes at once, mid-task: no shutdown,
    no acknowledgement, as when a machine loses power."""
    assert worker.process is not None
    subprocess.run(["pkill", "-KILL", "-P", str(worker.process.pid)], check=False)
    worker.process.kill()
    worker.process.wait(timeout=10)

"""A real Celery worker process for integration tests, on Redis, against the test DB."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from config.celery_app import app as celery_app

READY_TIMEOUT_SECONDS = 60
# Webhook retries a second apart, so that a test of three attempts takes seconds.
WORKER_WEBHOOK_RETRY_BASE_SECONDS = 1


@dataclass(frozen=True)
class WorkerProcess:
    node_name: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text()


def _database_url(database_name: str) -> str:
    """The test settings' DATABASE_URL, pointed at the test database pytest made."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database_name}"))


@contextmanager
def running_worker(
    *, database_name: str, log_path: Path, email_url: str
) -> Iterator[WorkerProcess]:
    """Start `celery worker` in its own process; yield it once it answers a ping.

    The worker uses the test settings against `database_name`, so what a test
    commits is what the worker reads, and sends email to the SMTP server at
    `email_url`.
    """
    worker = WorkerProcess(f"tests-{os.getpid()}@localhost", log_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": _database_url(database_name),
        "EMAIL_URL": email_url,
        "TEST_EMAIL_OVER_SMTP": "true",
        "WEBHOOK_RETRY_BASE_SECONDS": str(WORKER_WEBHOOK_RETRY_BASE_SECONDS),
    }
    # Tasks left in the queue by an earlier, interrupted run must not reach it.
    celery_app.control.purge()
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--hostname", worker.node_name, "--pool", "prefork", "--concurrency", "2",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_answering(worker, process)
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(
    worker: WorkerProcess, process: subprocess.Popen[bytes]
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{worker.log()[-3000:]}")
        if celery_app.control.ping(destination=[worker.node_name], timeout=0.5):
            return
    process.kill()
    raise RuntimeError(f"worker did not answer a ping:\n{worker.log()[-3000:]}")

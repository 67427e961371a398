"""A real Celery worker process for integration tests, on Redis, against the test DB."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config.celery_app import app as celery_app

READY_TIMEOUT_SECONDS = 60


@contextmanager
def running_worker(*, database_name: str, log_path: Path) -> Iterator[str]:
    """Start `celery worker` in its own process and yield its node name once it answers.

    The worker connects to `database_name` (the test database) with the test settings,
    so what a test commits is what the worker reads.
    """
    node_name = f"tests-{os.getpid()}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database_name}",
    }
    # Tasks left over from an earlier, interrupted run must not reach this worker.
    with celery_app.connection_for_write() as connection:
        channel: Any = connection.default_channel
        channel.client.flushdb()
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker",
        "--hostname", node_name, "--pool", "prefork", "--concurrency", "2",
        "--loglevel", "INFO", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        _wait_until_answering(node_name, process, log_path)
        yield node_name
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_answering(
    node_name: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"worker exited early:\n{log_path.read_text()[-3000:]}")
        if celery_app.control.ping(destination=[node_name], timeout=0.5):
            return
    process.kill()
    raise RuntimeError(f"worker did not answer a ping:\n{log_path.read_text()[-3000:]}")

"""Waiting in integration tests for what a worker process does to a row."""

import time
from typing import Protocol


class HasStatus(Protocol):
    status: str

    def refresh_from_db(self) -> None: ...


POLL_SECONDS = 0.1


def wait_for_status(row: HasStatus, *statuses: str, timeout: float = 30) -> None:
    """Reload `row` until its `status` is one of `statuses`; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.status in statuses:
            return
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"{row} is still {row.status} after {timeout} s")

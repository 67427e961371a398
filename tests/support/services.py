"""Make sure the services the test suite talks to are up: PostgreSQL and Redis.

Run as `python -m tests.support.services` (make test does). A service that is down is
started with this machine's command for it. With CI=true a service that stays down
fails the run; elsewhere it is reported and the tests that need it say so.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Service:
    name: str
    url_variable: str
    default_url: str
    start_command: tuple[str, ...]

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(os.environ.get(self.url_variable, self.default_url))
        return parts.hostname or "127.0.0.1", parts.port or 0


def _postgres_start_command() -> tuple[str, ...]:
    clusters = sorted(Path("/etc/postgresql").glob("*"))
    version = clusters[-1].name if clusters else "15"
    return ("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")


POSTGRESQL = Service(
    "PostgreSQL",
    "DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/test",
    _postgres_start_command(),
)
REDIS = Service(
    "Redis",
    "REDIS_URL",
    "redis://127.0.0.1:6379/15",
    (
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
        "--port", "6379", "--save", "", "--appendonly", "no",
        "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
    ),
)  # fmt: skip
SERVICES = (POSTGRESQL, REDIS)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def is_up(service: Service, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(service.address, timeout=timeout):
            return True
    except OSError:
        return False


def _start(service: Service) -> bool:
    if shutil.which(service.start_command[0]) is None:
        print(f"  cannot start {service.name}: {service.start_command[0]} not found")
        return False
    subprocess.run(service.start_command, check=False)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if is_up(service):
            return True
        time.sleep(0.5)
    return False


def ensure_services() -> list[Service]:
    """Start what is down; return the services still unreachable."""
    missing = []
    for service in SERVICES:
        host, port = service.address
        if is_up(service) or _start(service):
            print(f"{service.name} is up at {host}:{port}")
        else:
            print(f"{service.name} is NOT reachable at {host}:{port}")
            missing.append(service)
    return missing


def main() -> int:
    missing = ensure_services()
    if missing and in_ci():
        print("CI=true: the test suite needs every service; failing.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

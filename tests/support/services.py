"""Make sure the services the test suite talks to are up: PostgreSQL and Redis.

Run as `python -m tests.support.services` (make test does). A service that does not
answer is started with this machine's command for it. With CI=true a service that stays
down fails the run; elsewhere it is reported and the tests that need it say so.
The addresses are the test settings' own (config/settings/test.py).
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

START_TIMEOUT_SECONDS = 30


def _test_environment() -> None:
    """Put the test settings' defaults into os.environ, where the URLs are read."""
    import config.settings.test  # noqa: F401


@dataclass(frozen=True)
class Service:
    name: str
    url_variable: str
    answers: Callable[[str], None]
    start_command: Callable[[], tuple[str, ...]]

    @property
    def url(self) -> str:
        _test_environment()
        return os.environ[self.url_variable]


def _postgres_answers(url: str) -> None:
    with psycopg.connect(url, connect_timeout=2) as connection:
        connection.execute("SELECT 1")


def _redis_answers(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()


def _postgres_start() -> tuple[str, ...]:
    clusters = sorted(Path("/etc/postgresql").glob("*"))
    version = clusters[-1].name if clusters else "15"
    return ("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")


def _redis_start() -> tuple[str, ...]:
    return (
        "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1",
        "--port", "6379", "--save", "", "--appendonly", "no",
        "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
    )  # fmt: skip


POSTGRESQL = Service("PostgreSQL", "DATABASE_URL", _postgres_answers, _postgres_start)
REDIS = Service("Redis", "REDIS_URL", _redis_answers, _redis_start)
SERVICES = (POSTGRESQL, REDIS)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def is_up(service: Service) -> bool:
    """Whether the service answers a real request (a login and a query, a PING)."""
    try:
        service.answers(service.url)
    except (psycopg.Error, redis.RedisError, OSError):
        return False
    return True


def _start(service: Service) -> bool:
    command = service.start_command()
    if shutil.which(command[0]) is None:
        print(f"  cannot start {service.name}: {command[0]} not found")
        return False
    subprocess.run(command, check=False)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if is_up(service):
            return True
        time.sleep(0.5)
    return False


def ensure_services() -> list[Service]:
    """Start what is down; return the services that still do not answer."""
    missing = []
    for service in SERVICES:
        if is_up(service) or _start(service):
            print(f"{service.name} answers ({service.url_variable})")
        else:
            print(f"{service.name} does NOT answer at {service.url_variable}")
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

"""A throwaway PostgreSQL cluster for fault tests: stopped and started on one port.

Never the machine's PostgreSQL (5432), which other test runs share: `initdb` into a
temporary folder, a free port, bound to 127.0.0.1, trust authentication, no fsync
(nothing in it outlives the test). `initdb` and `postgres` refuse to run as root, so
as root both run as the `postgres` user; the folder is theirs, and is removed at
the end whatever state the test left the server in.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from django.db import connection

from tests.support.processes import free_port

DATABASE_NAME = "faults"
READY_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 15
INITDB_TIMEOUT_SECONDS = 60
MIGRATE_TIMEOUT_SECONDS = 120
# Speed over durability: the cluster lives for one test.
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "30",
}


def postgres_binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder, e.g. /usr/lib/postgresql/15/bin."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    return Path(found[-1]).parent if found else None


@dataclass(frozen=True)
class _Account:
    """Who the server runs as: the postgres user under root, else this user."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def _server_account() -> _Account:
    if os.geteuid() != 0:
        return _Account()
    account = pwd.getpwnam("postgres")
    return _Account(account.pw_uid, account.pw_gid, [])


class PostgresCluster:
    """One cluster in `folder`, served on `port`; `stop()` and `start()` it at will."""

    def __init__(self, binaries: Path, folder: Path, port: int) -> None:
        self.binaries = binaries
        self.folder = folder
        self.port = port
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.log_path = folder / "postgres.log"
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = DATABASE_NAME) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def init(self) -> None:
        """Make the cluster's files and the (empty) database; leave it running."""
        self.sockets.mkdir()
        account = _server_account()
        if account.user is not None and account.group is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, account.user, account.group)
        command = [
            str(self.binaries / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        ]  # fmt: skip
        subprocess.run(
            command,
            check=True,
            capture_output=True,
            timeout=INITDB_TIMEOUT_SECONDS,
            user=account.user,
            group=account.group,
            extra_groups=account.extra_groups,
        )
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{DATABASE_NAME}"')

    def start(self) -> None:
        """Start the server; return once it accepts connections."""
        assert not self.running, "postgres is already running"
        settings = [f"-c{name}={value}" for name, value in SERVER_SETTINGS.items()]
        command = [
            str(self.binaries / "postgres"), "-D", str(self.data), "-p", str(self.port),
            "-k", str(self.sockets), *settings,
        ]  # fmt: skip
        account = _server_account()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                user=account.user,
                group=account.group,
                extra_groups=account.extra_groups,
            )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if not self.running or time.monotonic() > deadline:
                    self._kill()
                    raise RuntimeError(
                        f"postgres did not start:\n{self.log()[-3000:]}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Fast shutdown (SIGINT): every session is ended, open transactions are
        rolled back; return once the server has exited."""
        assert self._process is not None, "postgres is not running"
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._kill()
        self._process = None

    def migrate(self) -> None:
        """`manage.py migrate` into the database, in a process of its own."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": self.url(),
        }
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
            env=env,
            capture_output=True,
            text=True,
            timeout=MIGRATE_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{done.stderr[-3000:]}")

    def _kill(self) -> None:
        """Immediate shutdown (SIGQUIT), then SIGKILL when even that hangs."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGQUIT)
            try:
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        self._process = None


@contextmanager
def running_postgres_cluster(binaries: Path) -> Iterator[PostgresCluster]:
    """A started cluster with an empty, migrated database; removed at the end."""
    # Not pytest's tmp_path: its folders are root's alone, and postgres runs as
    # the postgres user.
    folder = Path(tempfile.mkdtemp(prefix="fault-postgres-"))
    cluster = PostgresCluster(binaries, folder, free_port())
    try:
        cluster.init()
        cluster.migrate()
        yield cluster
    finally:
        cluster._kill()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def orm_pointed_at(cluster: PostgresCluster) -> Iterator[None]:
    """Point this process's default connection at the cluster's database, so that
    a test writes and reads there with the ORM; the test settings' database after.

    The caller unblocks database access (pytest-django's `django_db_blocker`);
    nothing here flushes: the cluster goes away with its rows.
    """
    keys = ("HOST", "PORT", "NAME", "USER", "PASSWORD")
    saved = {key: connection.settings_dict[key] for key in keys}
    connection.close()
    connection.settings_dict.update(
        HOST="127.0.0.1",
        PORT=str(cluster.port),
        NAME=DATABASE_NAME,
        USER="postgres",
        PASSWORD="",
    )
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)

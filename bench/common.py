"""What the benchmark scripts share: the real stack started for a run, percentiles,
peak memory, and the figures each script reports for `make bench`'s table.

Every script measures its baseline in the same run and reports a ratio beside the
absolute figures. `report` prints a script's figures and writes them to
var/bench/<script>.json, which bench/run.py gathers into one table.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.processes import free_port, process_stop  # noqa: E402

RESULTS = REPO / "var" / "bench"
SERVER_URL = os.environ.get(
    "BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# A fixed development key: the data is thrown away with the database.
HEALTH_KEY = "qSGGt8vMpEDvG-jd1a4s9k1bKxv4i1W2n8qzYtS6z2k="


@dataclass(frozen=True)
class Figure:
    """One line of the table: what was measured, its value, and where a baseline
    was measured beside it, that baseline and the ratio value / baseline."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    # None: no target for this figure.
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.value / self.baseline


def report(script: str, figures: Iterable[Figure], *, context: str) -> None:
    """Print `figures` as a table and keep them for bench/run.py."""
    listed = list(figures)
    print(f"\n{script}: {context}")
    print(table(listed))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{script}.json").write_text(
        json.dumps(
            {
                "script": script,
                "context": context,
                "figures": [
                    {**asdict(figure), "ratio": figure.ratio} for figure in listed
                ],
            },
            indent=1,
        )
    )


def table(figures: Iterable[Figure]) -> str:
    lines = [
        f"{'figure':<58}{'value':>12} {'unit':<8}{'baseline':>11}{'ratio':>9}  target"
    ]
    for figure in figures:
        baseline = "" if figure.baseline is None else f"{figure.baseline:,.1f}"
        ratio = "" if figure.ratio is None else f"{figure.ratio:.2f}"
        verdict = {None: "", True: " OK", False: " MISSED"}[figure.met]
        lines.append(
            f"{figure.name[:57]:<58}{figure.value:>12,.1f} {figure.unit:<8}"
            f"{baseline:>11}{ratio:>9}  {figure.target}{verdict}"
        )
    return "\n".join(lines)


def percentile(values: Iterable[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def psql(sql: str, *, database: str = "postgres") -> None:
    parts = urlsplit(SERVER_URL)
    subprocess.run(
        ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
         "-U", parts.username or "postgres", "-d", database, "-q", "-c", sql],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def service_environment(
    database: str, *, redis_db: int, broker_db: int, **extra: str
) -> dict[str, str]:
    """The production settings (plus bench/urls.py) on `database` and two Redis
    databases of their own."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "HEALTH_DATA_KEYS": HEALTH_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{SERVER_URL}/{database}",
        "REDIS_URL": f"{REDIS}/{redis_db}",
        "CELERY_BROKER_URL": f"{REDIS}/{broker_db}",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
        **extra,
    }


def manage(env: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *arguments],
        env=env, cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip


def database_prepare(env: dict[str, str], database: str, *, demo: bool = True) -> None:
    """A fresh `database`, migrated, with the questionnaire, the rules and (with
    `demo`) the demo clinic; the static files the production settings serve; and
    the Redis databases of `env` emptied."""
    import redis

    for url in (env["REDIS_URL"], env["CELERY_BROKER_URL"]):
        redis.Redis.from_url(url).flushdb()  # rate limits and tasks of a past run
    manage(env, "collectstatic", "--noinput", "-v", "0")
    psql(f"DROP DATABASE IF EXISTS {database}")
    psql(f"CREATE DATABASE {database}")
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "load_intake_definitions")
    if demo:
        manage(env, "load_demo_clinic")


def database_drop(database: str) -> None:
    psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@contextmanager
def running_gunicorn(
    env: dict[str, str], *, workers: int = 3
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """gunicorn with the production configuration (config/gunicorn.py) on a free
    port of 127.0.0.1; yields (port, process) once /healthz answers. Its log is
    var/bench/gunicorn.log."""
    port = free_port()
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "gunicorn.log").open("wb") as log:  # the errors, if any
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application",
             "-c", str(REPO / "config" / "gunicorn.py"),
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers)],
            env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.1)
        yield port, process
    finally:
        process_stop(process)


@contextmanager
def running_worker(
    env: dict[str, str], *, queues: str = "", concurrency: int = 1, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker process (prefork, `concurrency` children) on `queues` (the
    settings' default: every queue the service uses)."""
    command = [
        sys.executable, "-m", "celery", "-A", "config.celery_app", "worker",
        "--concurrency", str(concurrency), "--without-gossip", "--without-mingle",
        "-n", f"bench-{os.getpid()}@%h", "--loglevel", "WARNING",
    ]  # fmt: skip
    if queues:
        command += ["-Q", queues]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process_stop(process)


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += process_tree(int(child))
    return found


def peak_rss_mib(pid: int) -> float:
    """The largest peak resident memory (VmHWM) of `pid` and its children, MiB:
    of one process, not their sum (a gunicorn arbiter's workers, a worker's pool)."""
    peaks = [0]
    for each in process_tree(pid):
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]))
    return max(peaks) / 1024

"""API submissions per second, against a bare one-INSERT view on the same server.

Run `python bench/submissions.py [--requests 200] [--concurrency 4] [--rounds 3]` with
PostgreSQL and Redis on this machine (the test settings' defaults). It makes a
throwaway database `bench_submissions`, migrates it, loads the questionnaire, the rules
and the demo clinic, and starts gunicorn (sync workers, the production settings plus
bench/urls.py) on 127.0.0.1. A load generator in this process (threads, one request
at a time each) then POSTs complete questionnaires, each from another person, to
/api/v1/submissions, and the same JSON body to /bench/baseline, which parses it and
does one INSERT. Rounds alternate between the two; the figures are medians over the
rounds, and the ratio is the service's throughput over the baseline's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.answers import complete_answers  # noqa: E402
from tests.support.processes import free_port, process_stop  # noqa: E402

DATABASE = "bench_submissions"
SERVER_URL = os.environ.get(
    "BENCH_DATABASE_SERVER", "postgres://postgres@127.0.0.1:5432"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
# A fixed development key: the data is thrown away with the database.
HEALTH_KEY = "qSGGt8vMpEDvG-jd1a4s9k1bKxv4i1W2n8qzYtS6z2k="


def _psql(sql: str) -> None:
    parts = urlsplit(SERVER_URL)
    subprocess.run(
        ["psql", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
         "-U", parts.username or "postgres", "-d", "postgres", "-q", "-c", sql],
        check=True,
    )  # fmt: skip


def _environment() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "HEALTH_DATA_KEYS": HEALTH_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"{SERVER_URL}/{DATABASE}",
        "REDIS_URL": f"{REDIS}/11",
        "CELERY_BROKER_URL": f"{REDIS}/10",
        "ACCESS_LOG": "false",
        "LOG_LEVEL": "WARNING",
    }


def _database_prepare(env: dict[str, str]) -> None:
    _psql(f"DROP DATABASE IF EXISTS {DATABASE}")
    _psql(f"CREATE DATABASE {DATABASE}")
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["load_intake_definitions"],
        ["load_demo_clinic"],
    ):
        subprocess.run([*manage, *command], env=env, check=True, capture_output=True)
    subprocess.run(
        [*manage, "dbshell", "--", "-q", "-c",
         "CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, body jsonb NOT NULL,"
         " created_at timestamptz NOT NULL DEFAULT now())"],
        env=env, check=True,
    )  # fmt: skip


def _server_start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "3", "--timeout", "60",
         "--error-logfile", "-"],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.1)
    process_stop(process)
    raise RuntimeError("gunicorn did not start")


def _body(number: int) -> bytes:
    answers = complete_answers(
        full_name=f"Bench Person {number}",
        email=f"bench.person.{number}@example.com",
        phone=f"+90532{number:07d}",
    )
    return json.dumps({"answers": answers, "language": "en"}).encode()


def _round(
    port: int, path: str, bodies: list[bytes], concurrency: int
) -> tuple[float, list[float]]:
    """(requests per second, latencies in ms) for all `bodies`, `concurrency` at a
    time; any answer but 201 stops the benchmark."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    queue = list(reversed(bodies))

    def client() -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                body = queue.pop()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            started = time.perf_counter()
            connection.request("POST", path, body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            text = response.read()
            elapsed = (time.perf_counter() - started) * 1000
            connection.close()
            with lock:
                if response.status != 201:
                    failures.append(f"{path}: {response.status} {text[:300]!r}")
                latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(failures[0])
    return len(bodies) / wall, latencies


def _p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    env = _environment()
    _database_prepare(env)
    port = free_port()
    server = _server_start(env, port)
    results: dict[str, list[tuple[float, list[float]]]] = {
        "service": [],
        "baseline": [],
    }
    targets: dict[str, Callable[[list[bytes]], tuple[float, list[float]]]] = {
        "baseline": lambda bodies: _round(
            port, "/bench/baseline", bodies, options.concurrency
        ),
        "service": lambda bodies: _round(
            port, "/api/v1/submissions", bodies, options.concurrency
        ),
    }
    try:
        # A warm-up of each, so that every worker has loaded its definitions.
        for target in targets.values():
            target([_body(9_000_000 + n) for n in range(options.concurrency * 3)])
        person = 0
        for _ in range(options.rounds):
            for name, target in targets.items():
                bodies = [_body(person + n) for n in range(options.requests)]
                person += options.requests
                results[name].append(target(bodies))
    finally:
        process_stop(server)
        _psql(f"DROP DATABASE IF EXISTS {DATABASE}")

    print(
        f"submissions: {options.requests} requests x {options.rounds} rounds, "
        f"{options.concurrency} at a time, gunicorn sync x3, production settings"
    )
    print(f"{'endpoint':<40}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'x baseline':>12}")
    medians: dict[str, float] = {}
    for name in ("baseline", "service"):
        rates = [rate for rate, _ in results[name]]
        latencies = [ms for _, round_ms in results[name] for ms in round_ms]
        medians[name] = statistics.median(rates)
        label = {
            "baseline": "bare view, one INSERT (baseline)",
            "service": "POST /api/v1/submissions",
        }[name]
        print(
            f"{label:<40}{medians[name]:>9.1f}{_p(latencies, 0.5):>9.1f}"
            f"{_p(latencies, 0.95):>9.1f}{medians[name] / medians['baseline']:>11.2f}x"
        )
    print("target (benchmarks issue): 0.5x the baseline")


if __name__ == "__main__":
    main()

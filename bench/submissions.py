"""Completed submissions per second, through the API and through the form's last
step, against a bare one-INSERT view on the same server; and the SQL statements
one API submission runs.

Run `python bench/submissions.py [--requests 200] [--concurrency 4] [--rounds 3]`
with PostgreSQL and Redis on this machine. It makes a throwaway database
`bench_submissions` with the questionnaire, the rules and the demo clinic (whose
appointment types make every low-risk submission an offer of free times), and
starts gunicorn with the production configuration (config/gunicorn.py, the
production settings plus bench/urls.py) on 127.0.0.1. A load generator in this
process (threads, one request at a time each) then sends, each round:

- the baseline: the API's JSON body to /bench/baseline, which parses it and does
  one INSERT;
- complete questionnaires, each from another person, to /api/v1/submissions;
- the form's last step for people who went through the earlier steps before the
  round (their sessions are made untimed), as a browser posts it.

The figures are medians over the rounds; the ratios are each one's throughput
over the baseline's of the same round. The statement count comes from one API
submission in this process, on the same database, once the cache is warm.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    Figure,
    database_drop,
    database_prepare,
    manage,
    median,
    peak_rss_mib,
    percentile,
    report,
    running_gunicorn,
    service_environment,
)
from tests.support.answers import complete_answers  # noqa: E402

DATABASE = "bench_submissions"
QUERY_BUDGET = 12
TARGET_RATIO = 0.5
_CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def _answers(number: int) -> dict[str, object]:
    return complete_answers(
        full_name=f"Bench Person {number}",
        email=f"bench.person.{number}@example.com",
        phone=f"+90532{number:07d}",
    )


def _api_body(number: int) -> bytes:
    return json.dumps({"answers": _answers(number), "language": "en"}).encode()


@dataclass
class _Browser:
    """One person's cookies, as a browser keeps them."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, object] | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if form is not None:
            body = urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        text = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        connection.close()
        return response.status, text

    def post_step(self, path: str, form: dict[str, object]) -> int:
        status, page = self.request("GET", path)
        token = _CSRF_FIELD.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"GET {path}: {status}")
        status, text = self.request(
            "POST", path, {**form, "csrfmiddlewaretoken": token.group(1).decode()}
        )
        if status != 302:
            raise RuntimeError(f"POST {path}: {status} {text[:300]!r}")
        return status


_Ready = tuple[_Browser, str, dict[str, object]]
PATHS = {"baseline": "/bench/baseline", "api": "/api/v1/submissions"}


def _form_ready(port: int, number: int) -> _Ready:
    """A person who went through every step but the last: (their browser, the last
    step's address, what they post there)."""
    from tests.support.form_steps import STEPS, step_data

    answers = _answers(number)
    browser = _Browser(port)
    browser.post_step("/en/consultation/", {"consent_health": "on"})
    for step in range(1, len(STEPS)):
        browser.post_step(f"/en/consultation/step/{step}/", step_data(step, answers))
    last = f"/en/consultation/step/{len(STEPS)}/"
    status, page = browser.request("GET", last)
    token = _CSRF_FIELD.search(page)
    if status != 200 or token is None:
        raise RuntimeError(f"GET {last}: {status}")
    form = {**step_data(len(STEPS), answers), "csrfmiddlewaretoken": token.group(1)}
    return browser, last, form


def _concurrently(
    jobs: list[Callable[[], float]], concurrency: int
) -> tuple[float, list[float]]:
    """(jobs per second, each job's milliseconds), `concurrency` at a time; the
    first failure stops the benchmark."""
    latencies: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    queue = list(reversed(jobs))

    def worker() -> None:
        while True:
            with lock:
                if not queue or failures:
                    return
                job = queue.pop()
            try:
                elapsed = job()
            except BaseException as error:  # noqa: BLE001
                with lock:
                    failures.append(error)
                return
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"a request failed: {failures[0]}")
    return len(jobs) / wall, latencies


def _post_json(port: int, path: str, number: int) -> float:
    body = _api_body(number)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.perf_counter()
    connection.request("POST", path, body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    text = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"{path}: {response.status} {text[:300]!r}")
    return elapsed


def _prepare(port: int, number: int, ready: list[_Ready]) -> float:
    ready.append(_form_ready(port, number))  # list.append is atomic
    return 0.0


def _post_last_step(ready: _Ready) -> float:
    browser, path, form = ready
    started = time.perf_counter()
    status, text = browser.request("POST", path, form)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 302:
        raise RuntimeError(f"last step: {status} {text[:300]!r}")
    return elapsed


def _statements_per_submission(env: dict[str, str]) -> int:
    """The SQL statements of one API submission with a warm cache, as the server
    runs it (the production settings, the same database), counted in this process.
    The demo clinic assigns each new lead by round robin: three statements more
    than an unassigned one (tests/intake/test_query_counts.py)."""
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    for number in (8_000_001, 8_000_002):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/api/v1/submissions",
                _api_body(number),
                content_type="application/json",
            )
        assert response.status_code == 201, response.content[:300]
    statements = [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"] not in ("BEGIN", "COMMIT")
    ]
    if os.environ.get("BENCH_SHOW_SQL"):
        print("\n".join(sql[:160] for sql in statements), file=sys.stderr)
    return len(statements)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()

    env = service_environment(DATABASE, redis_db=11, broker_db=10)
    database_prepare(env, DATABASE)
    manage(
        env, "dbshell", "--", "-q", "-c",
        "CREATE TABLE bench_baseline (id bigserial PRIMARY KEY, body jsonb NOT NULL,"
        " created_at timestamptz NOT NULL DEFAULT now())",
    )  # fmt: skip
    rates: dict[str, list[float]] = {"baseline": [], "api": [], "form": []}
    latencies: dict[str, list[float]] = {name: [] for name in rates}
    person = 0
    try:
        with running_gunicorn(env) as (port, server):

            def round_of(name: str, count: int) -> None:
                nonlocal person
                numbers = range(person, person + count)
                person += count
                jobs: list[Callable[[], float]]
                if name == "form":
                    ready: list[_Ready] = []
                    _concurrently(
                        [partial(_prepare, port, n, ready) for n in numbers],
                        options.concurrency,
                    )
                    jobs = [partial(_post_last_step, r) for r in ready]
                else:
                    path = PATHS[name]
                    jobs = [partial(_post_json, port, path, n) for n in numbers]
                rate, times = _concurrently(jobs, options.concurrency)
                rates[name].append(rate)
                latencies[name].extend(times)

            # A warm-up of each, so that every worker has filled its caches.
            for name in rates:
                round_of(name, options.concurrency * 3)
                rates[name].clear()
                latencies[name].clear()
            for number in range(options.rounds):
                print(f"round {number + 1} of {options.rounds}", file=sys.stderr)
                for name in rates:
                    round_of(name, options.requests)
            web_rss = peak_rss_mib(server.pid)
        statements = _statements_per_submission(env)
    finally:
        database_drop(DATABASE)

    baseline = median(rates["baseline"])
    labels = {
        "baseline": "bare view, one INSERT (baseline), req/s",
        "api": "POST /api/v1/submissions, req/s",
        "form": "the form's last step (POST), req/s",
    }
    figures = []
    for name, label in labels.items():
        rate = median(rates[name])
        is_service = name != "baseline"
        figures += [
            Figure(
                label,
                rate,
                "req/s",
                baseline=baseline if is_service else None,
                target=f">= {TARGET_RATIO} x baseline" if is_service else "",
                met=rate / baseline >= TARGET_RATIO if is_service else None,
            ),
            Figure(f"  {name}: p50", percentile(latencies[name], 0.5), "ms"),
            Figure(f"  {name}: p95", percentile(latencies[name], 0.95), "ms"),
        ]
    figures += [
        Figure(
            "SQL statements per API submission, BEGIN and COMMIT aside",
            statements,
            "queries",
            target=f"<= {QUERY_BUDGET}",
            met=statements <= QUERY_BUDGET,
        ),
        Figure("web worker peak RSS", web_rss, "MiB"),
    ]
    report(
        "submissions",
        figures,
        context=(
            f"{options.requests} requests x {options.rounds} rounds, "
            f"{options.concurrency} at a time; gunicorn (config/gunicorn.py), "
            "production settings, demo clinic"
        ),
    )


if __name__ == "__main__":
    main()

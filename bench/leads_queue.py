"""The staff queue at scale: its API's first page and the workspace queue page over
100,000 and 1,000,000 leads, through a real server, beside the same SQL run raw.

Run `python bench/leads_queue.py [--sizes 100000,1000000] [--requests 40]` with
PostgreSQL and Redis on this machine. For each size it makes a throwaway database
`bench_queue`, migrates it, loads leads with COPY (three locations, realistic spreads
of status, owner, priority, score, treatments and outcomes, two years of created
dates, names drawn from a skewed list so that a name search is selective), ANALYZEs,
and starts gunicorn with the production settings. As a coordinator of one location
(an API token for the API, a session for the page) it times the API's first page
(50) for the common filters and searches, a page 10,000 rows deep (keyset), and the
workspace queue page (/staff/). The baseline of each request is the SQL it runs,
captured once in this process and executed raw through psycopg on the same database
(every statement, rows fetched): ratio = the request's p95 / the raw SQL's p95.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import http.client
import itertools
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    SERVER_URL,
    Figure,
    database_drop,
    database_prepare,
    manage,
    peak_rss_mib,
    percentile,
    report,
    running_gunicorn,
    service_environment,
)

# Another name lets a second run (a profile, say) share the server.
DATABASE = os.environ.get("BENCH_QUEUE_DATABASE", "bench_queue")
ENV = service_environment(DATABASE, redis_db=3, broker_db=1)
# This process reads and writes the same database with the same settings: the
# token, the session and the captured SQL are the server's.
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from leads.models import Lead, LeadTask, LeadTreatment  # noqa: E402
from leads.selectors import lead_email_key  # noqa: E402
from tests.support.factories import LocationFactory  # noqa: E402
from tests.support.staff_api import (  # noqa: E402
    OUTCOMES,
    TREATMENTS,
    api_key_for,
    staff,
)

T = TypeVar("T")
TARGET_MS = 30.0
TARGET_RATIO = 3.0
TARGET = f"p95 < {TARGET_MS:.0f} ms, ratio < {TARGET_RATIO:.0f}"
DEEP_ROWS = 10_000
CHUNK = 25_000


# Skewed on purpose: common names are common, so a search for a rare one is
# selective and one for a common one is not.
def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _names(
    "Ayse Fatma Zeynep Elif Emine Hatice Merve Esra Ozlem Selin Ebru Derya Gul "
    "Deniz Ceren Busra Irem Melis Yasemin Sibel Aylin Canan Pinar Seda Tugba Nur "
    "Ece Asli Mehmet Mustafa Ahmet Ali Huseyin Hasan Ibrahim Murat Emre Burak Can "
    "Kerem Onur Baris Serkan Tolga Umut Volkan Anna Maria Olga Elena Sofia Laura "
    "Sarah Julia Hannah Lea Natalia Irina Svetlana Tatiana Amira Leyla Dilara "
    "Nazli Rabia Sena"
)
LAST_NAMES = _names(
    "Yilmaz Kaya Demir Sahin Celik Yildiz Yildirim Ozturk Aydin Ozdemir Arslan "
    "Dogan Kilic Aslan Cetin Kara Koc Kurt Ozkan Simsek Polat Korkmaz Erdogan Akin "
    "Cakir Tekin Aktas Gunes Bozkurt Erdem Keskin Unal Tas Karaca Bulut Ucar Guler "
    "Acar Muller Schmidt Schneider Fischer Weber Ivanova Petrova Smirnova Popescu "
    "Rossi Smith Jones Brown Novak Horvat Kowalska Nielsen Jensen Quintana Wojcik "
    "Zamora"
)
# Quintana, Zamora, Wojcik come last and so rarely (Zipf weights): "qui" is rare.
NAME_SEARCH = "qui"
LOCATIONS = (("nisantasi", 5), ("kadikoy", 3), ("bodrum", 2))
OWNERS_PER_LOCATION = 6
OPEN = ("new", "contacted", "qualified", "awaiting_review", "booked")
CLOSED = ("in_treatment", "completed", "lost", "disqualified")
LOST_REASONS = [r for r in Lead.LostReason.values if r != "erased"]


def zipf(items: list[str] | tuple[str, ...], exponent: float = 1.1) -> list[float]:
    return [1 / (rank + 1) ** exponent for rank in range(len(items))]


# ---------------------------------------------------------------- loading


def progress(label: str, done: int, total: int, started: float) -> None:
    """A one-line progress bar on stderr."""
    width = 30
    filled = int(width * done / total) if total else width
    elapsed = time.monotonic() - started
    sys.stderr.write(
        f"\r  {label:<22} [{'#' * filled}{'.' * (width - filled)}] "
        f"{done:>9,}/{total:,} {elapsed:5.1f} s"
    )
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class People:
    """Who the leads are spread over: locations and their coordinators."""

    location_ids: list[int]
    location_weights: list[int]
    owners: dict[int, list[int]]  # location id -> user ids


def picker(
    rng: random.Random, items: Sequence[T], weights: Sequence[float]
) -> Callable[[], T]:
    """A weighted choice of `items`, cheaper per call than random.choices."""
    cumulative = list(itertools.accumulate(weights))
    total = cumulative[-1]
    return lambda: items[bisect.bisect(cumulative, rng.random() * total)]


def lead_rows(
    count: int, people: People, *, now: dt.datetime, rng: random.Random
) -> Iterator[tuple[str, str, str]]:
    """Each lead's COPY line, its treatments' lines and maybe an open task's
    (COPY's text format: the generated strings need no escaping)."""
    first_name = picker(rng, FIRST_NAMES, zipf(FIRST_NAMES, 0.8))
    last_name = picker(rng, LAST_NAMES, zipf(LAST_NAMES, 1.2))
    location_of = picker(rng, people.location_ids, people.location_weights)
    priority_of = picker(rng, ("high", "normal", "low"), (15, 60, 25))
    treatment_of = picker(rng, list(TREATMENTS), list(TREATMENTS.values()))
    outcome_of = picker(rng, list(OUTCOMES), list(OUTCOMES.values()))
    languages = ["tr"] * 14 + ["en"] * 4 + ["de", "ru"]
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    recent_days = 45
    treatment_id = 0
    for pk in range(1, count + 1):
        # Two years, growing: more leads lately than at the start.
        days = 730 * (1 - rng.random() ** 0.7)
        created = now - dt.timedelta(days=days)
        location = location_of()
        first, last = first_name(), last_name()
        email = f"{first}.{last}{pk}@example.com".lower()
        if days < recent_days or rng.random() < 0.08:
            status = rng.choice(OPEN)
        else:
            status = rng.choice(CLOSED)
        due = created + hour * rng.choice((1, 2, 4, 24))
        contacted = (
            None
            if status == "new" and rng.random() < 0.7
            else created + dt.timedelta(minutes=rng.randrange(10, 60 * 30))
        )
        owner = (
            r"\N"
            if (status == "new" and rng.random() < 0.5) or rng.random() < 0.03
            else str(rng.choice(people.owners[location]))
        )
        merged = str(rng.randrange(1, pk)) if pk > 10 and rng.random() < 0.01 else r"\N"
        uncertain = (
            str(rng.randrange(1, pk)) if pk > 10 and rng.random() < 0.005 else r"\N"
        )
        created_text = created.isoformat()
        contacted_text = r"\N" if contacted is None else contacted.isoformat()
        changed_text = created_text if contacted is None else contacted_text
        lead = "\t".join(
            (
                str(pk),
                f"{rng.getrandbits(128):032x}",
                str(location),
                f"{first} {last}",
                email,
                lead_email_key(email),
                f"+90530{pk:07d}",
                rng.choice(languages),
                status,
                rng.choice(LOST_REASONS) if status == "lost" else "",
                changed_text,
                priority_of(),
                str(max(0, min(100, int(rng.gauss(55, 18))))),
                "[]",
                owner,
                due.isoformat(),
                contacted_text,
                "0",
                uncertain,
                merged,
                created_text,
                created_text,
                changed_text,
            )
        )
        treatments = []
        wanted = {treatment_of() for _ in range(rng.choice((1, 1, 2, 3)))}
        for code in sorted(wanted):
            treatment_id += 1
            outcome = outcome_of()
            bookable = (
                (created + day * rng.randrange(14, 120)).date().isoformat()
                if outcome == "deferred" and rng.random() < 0.5
                else r"\N"
            )
            treatments.append(f"{treatment_id}\t{pk}\t{code}\t{outcome}\t{bookable}\n")
        task = ""
        if status in OPEN and rng.random() < 0.05:
            task = (
                f"{pk}\t{owner}\tCall back\t{(created + 2 * day).isoformat()}"
                f"\t\\N\t{created_text}\n"
            )
        yield lead + "\n", "".join(treatments), task


LEAD_COLUMNS = (
    "id, code, location_id, full_name, email, email_key, phone, preferred_language, "
    "status, lost_reason, status_changed_at, priority, score, score_parts, owner_id, "
    "first_contact_due_at, first_contacted_at, escalation, match_uncertain_with_id, "
    "merged_into_id, created_at, last_submitted_at, updated_at"
)
TREATMENT_COLUMNS = "id, lead_id, treatment, outcome, bookable_from"
TASK_COLUMNS = "lead_id, assignee_id, title, due_at, done_at, created_at"


def leads_load(count: int, people: People) -> None:
    """`count` leads, their treatments and some open tasks, by COPY: the tables'
    secondary indexes are dropped first and built again after, as a bulk load does."""
    tables = {
        Lead._meta.db_table: LEAD_COLUMNS,
        LeadTreatment._meta.db_table: TREATMENT_COLUMNS,
        LeadTask._meta.db_table: TASK_COLUMNS,
    }
    rng = random.Random(20261207)  # noqa: S311 - test data, not secrets
    now = timezone.now()
    started = time.monotonic()
    with psycopg.connect(f"{SERVER_URL}/{DATABASE}", autocommit=True) as db:
        indexes = db.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c"
            " WHERE c.conname = i.indexname)",
            [list(tables)],
        ).fetchall()
        # A migration's finer statistics on an index's expression go with it.
        targets = db.execute(
            "SELECT c.relname, a.attnum, a.attstattarget FROM pg_attribute a"
            " JOIN pg_class c ON c.oid = a.attrelid"
            " WHERE c.relname = ANY(%s) AND a.attstattarget > 0",
            [[name for name, _definition in indexes]],
        ).fetchall()
        for name, _definition in indexes:
            db.execute(f'DROP INDEX "{name}"')
        # Bulk-load mode for this session: no foreign-key or other triggers per
        # row (the generated rows are consistent by construction).
        db.execute("SET session_replication_role = replica")
        lead_table, treatment_table, task_table = tables

        def copy(chunks: dict[str, list[str]]) -> None:
            for table, lines in chunks.items():
                with db.cursor().copy(
                    f"COPY {table} ({tables[table]}) FROM STDIN"
                ) as to:
                    to.write("".join(lines))

        # The server COPYs one chunk while this thread makes the next.
        with ThreadPoolExecutor(max_workers=1) as copier:
            pending: Future[None] | None = None
            chunks: dict[str, list[str]] = {table: [] for table in tables}
            rows = lead_rows(count, people, now=now, rng=rng)
            for done, (lead, treatments, task) in enumerate(rows, start=1):
                chunks[lead_table].append(lead)
                chunks[treatment_table].append(treatments)
                chunks[task_table].append(task)
                if done % CHUNK == 0 or done == count:
                    if pending is not None:
                        pending.result()
                    pending = copier.submit(copy, chunks)
                    chunks = {table: [] for table in tables}
                    progress("COPY leads", done, count, started)
            if pending is not None:
                pending.result()
        db.execute("SET session_replication_role = DEFAULT")
        db.execute("SET maintenance_work_mem = '256MB'")
        built = time.monotonic()
        for n, (_name, definition) in enumerate(indexes, start=1):
            db.execute(definition)
            if n == len(indexes) or count >= 100_000:
                progress("indexes", n, len(indexes), built)
        for name, column, target in targets:
            db.execute(
                f'ALTER INDEX "{name}" ALTER COLUMN {column} SET STATISTICS {target}'
            )
        for table in tables:
            # The models' own tables, no input: nothing to inject.
            setval = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            db.execute(f"{setval}(SELECT max(id) FROM {table}))")  # noqa: S608
        db.execute("VACUUM ANALYZE")
    print(f"{count:,} leads loaded, indexed and analysed in "
          f"{time.monotonic() - started:.0f} s", file=sys.stderr)  # fmt: skip


def people_make() -> tuple[People, Any]:
    """Three locations, their coordinators; returns them and the coordinator the
    benchmark signs in as (of the first location)."""
    locations = [LocationFactory.create(slug=slug) for slug, _weight in LOCATIONS]
    owners = {
        location.pk: [
            staff(locations=[location]).pk for _ in range(OWNERS_PER_LOCATION)
        ]
        for location in locations
    }
    from django.contrib.auth.models import User

    coordinator = User.objects.get(pk=owners[locations[0].pk][0])
    people = People(
        location_ids=[location.pk for location in locations],
        location_weights=[weight for _slug, weight in LOCATIONS],
        owners=owners,
    )
    return people, coordinator


# ---------------------------------------------------------------- timing


@dataclass(frozen=True)
class Probe:
    """One request the benchmark times."""

    name: str
    path: str
    params: dict[str, str]
    page: bool = False  # the workspace page (session), else the API (token)

    def url(self) -> str:
        return f"{self.path}?{urlencode(self.params)}" if self.params else self.path


def probes(deep_cursor: str, *, deep: int) -> list[Probe]:
    lead = (
        Lead.objects.filter(location__slug=LOCATIONS[0][0], merged_into__isnull=True)
        .order_by("-id")
        .first()
    )
    assert lead is not None
    since = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    national = "0" + lead.phone[3:]  # +90530... as people type it: 0530...
    api = "/api/v1/leads"
    return [
        Probe("no filter", api, {}),
        Probe("status filter", api, {"status": "new,contacted"}),
        Probe("owner=me", api, {"owner": "me"}),
        Probe("owner=none", api, {"owner": "none"}),
        Probe("overdue", api, {"overdue": "true"}),
        Probe("treatment+outcome", api, {"treatment": "prp", "outcome": "review"}),
        Probe("created range", api, {"created_after": since, "ordering": "-created"}),
        Probe("search email", api, {"q": lead.email}),
        Probe("search phone", api, {"q": f"{national[:4]} {national[4:]}"}),
        Probe(f"search name '{NAME_SEARCH}'", api, {"q": NAME_SEARCH}),
        Probe(f"deep page ({deep:,} in)", api, {"cursor": deep_cursor}),
        Probe("workspace page", "/staff/", {}, page=True),
        Probe(
            f"workspace page, search '{NAME_SEARCH}'",
            "/staff/",
            {"q": NAME_SEARCH},
            page=True,
        ),
    ]


def http_get(port: int, url: str, headers: dict[str, str]) -> bytes:
    """One GET on a new connection (gunicorn's sync workers keep none alive)."""
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection_.request("GET", url, headers=headers)
        response = connection_.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {url}: {response.status} {body[:300]!r}")
        return body
    finally:
        connection_.close()


def timed_ms(operation: Callable[[], object], *, requests: int) -> list[float]:
    """Wall milliseconds of `requests` calls after two warm-up calls."""
    operation()
    operation()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        operation()
        times.append((time.perf_counter() - started) * 1000)
    return times


def deep_cursor_find(port: int, headers: dict[str, str], *, rows: int) -> str:
    """The cursor of the page `rows` leads into the default queue, by following
    `next` links 200 at a time, as a client does."""
    body = json.loads(http_get(port, "/api/v1/leads?page_size=200", headers))
    for _ in range(rows // 200 - 1):
        next_url = urlsplit(body["next"])
        body = json.loads(http_get(port, f"{next_url.path}?{next_url.query}", headers))
    return str(parse_qs(urlsplit(body["next"]).query)["cursor"][0])


# Transaction control and a server-side cursor's own steps: the raw run is in
# autocommit and fetches each result whole.
_NOT_REPLAYED = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT", "FETCH", "CLOSE")
_DECLARE = re.compile(r"DECLARE .*? CURSOR .*? FOR (.*)", re.DOTALL)


def captured_sql(client: Client, url: str) -> list[str]:
    """The statements the request runs, as sent (client-side bound: runnable
    as they are); transaction control left out."""
    client.get(url)  # the first request fills per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    statements = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith(_NOT_REPLAYED):
            continue
        # A server-side cursor (QuerySet.iterator()): its query, fetched at once.
        declared = _DECLARE.match(sql)
        statements.append(declared.group(1) if declared else sql)
    return statements


def raw_ms(statements: list[str], *, requests: int) -> list[float]:
    """Wall milliseconds of running `statements` through psycopg, rows fetched."""
    with psycopg.connect(f"{SERVER_URL}/{DATABASE}", autocommit=True) as db:

        def run() -> None:
            with db.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql.encode())  # already bound: no parameters
                    if cursor.description is not None:
                        cursor.fetchall()

        return timed_ms(run, requests=requests)


@dataclass(frozen=True)
class Measured:
    probe: Probe
    p50: float
    p95: float
    raw_p50: float
    raw_p95: float
    statements: int

    @property
    def ratio(self) -> float:
        return self.p95 / self.raw_p95


def measure_size(count: int, *, requests: int) -> tuple[list[Measured], float]:
    """Load `count` leads in a fresh database, time every probe; the measurements
    and a gunicorn worker's peak RSS (MiB)."""
    connections.close_all()
    database_prepare(ENV, DATABASE, demo=False)
    cache.clear()  # sessions, lock-outs and cached settings of the last size
    people, coordinator = people_make()
    leads_load(count, people)
    key = api_key_for(coordinator, name="bench")
    api_headers = {"Authorization": f"Token {key}", "Host": "127.0.0.1"}
    browser = Client(HTTP_HOST="127.0.0.1", secure=False)
    browser.force_login(coordinator)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    page_headers = {
        "Cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
        "Host": "127.0.0.1",
    }
    api_client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {key}")
    results = []
    with running_gunicorn(ENV, workers=2) as (port, server):
        deep = min(DEEP_ROWS, count // 4)
        cursor = deep_cursor_find(port, api_headers, rows=deep)
        for probe in probes(cursor, deep=deep):
            statements = captured_sql(
                browser if probe.page else api_client, probe.url()
            )
            headers = page_headers if probe.page else api_headers
            # The page costs seconds at a million leads: fewer of them.
            times = max(10, requests // 4) if probe.page else requests
            served = timed_ms(
                lambda probe=probe, headers=headers: http_get(  # type: ignore[misc]
                    port, probe.url(), headers
                ),
                requests=times,
            )
            raw = raw_ms(statements, requests=times)
            results.append(
                Measured(
                    probe=probe,
                    p50=percentile(served, 0.5),
                    p95=percentile(served, 0.95),
                    raw_p50=percentile(raw, 0.5),
                    raw_p95=percentile(raw, 0.95),
                    statements=len(statements),
                )
            )
            print(
                f"  {count:>9,} {probe.name:<34} p50 {results[-1].p50:6.1f} "
                f"p95 {results[-1].p95:6.1f} ms | raw SQL p50 "
                f"{results[-1].raw_p50:5.1f} p95 {results[-1].raw_p95:5.1f} ms, "
                f"{len(statements)} statements",
                file=sys.stderr,
            )
        rss = peak_rss_mib(server.pid)
    connections.close_all()
    return results, rss


def figures_for(count: int, results: list[Measured], rss: float) -> list[Figure]:
    figures = []
    for each in results:
        kind = "workspace queue page" if each.probe.page else "API first page"
        name = each.probe.name
        if each.probe.page:
            name = name.removeprefix("workspace page").lstrip(", ") or "no filter"
        elif name.startswith("deep page"):
            kind = "API page"
        figures.append(
            Figure(
                name=f"{kind}, {name}, {count:,} leads, p95",
                value=each.p95,
                unit="ms",
                baseline=each.raw_p95,
                baseline_name="the same SQL through psycopg, p95",
                target="" if each.probe.page else TARGET,
                met=None
                if each.probe.page
                else each.p95 < TARGET_MS and each.ratio < TARGET_RATIO,
            )
        )
    figures.append(
        Figure(
            name=f"gunicorn worker peak RSS, {count:,} leads",
            value=rss,
            unit="MiB",
        )
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="100000,1000000",
        type=lambda text: [int(n) for n in text.split(",")],
    )
    parser.add_argument("--requests", type=int, default=40)
    options = parser.parse_args()
    started = time.monotonic()
    measured: dict[int, list[Measured]] = {}
    # The production settings serve hashed static files from a manifest.
    manage(ENV, "collectstatic", "--noinput", "-v", "0")
    figures: list[Figure] = []
    try:
        for count in options.sizes:
            results, rss = measure_size(count, requests=options.requests)
            measured[count] = results
            figures += figures_for(count, results, rss)
    finally:
        connections.close_all()
        database_drop(DATABASE)
    if len(measured) > 1:
        small, large = min(measured), max(measured)
        api = [
            (a.p95, b.p95)
            for a, b in zip(measured[small], measured[large], strict=True)
            if not a.probe.page
        ]
        worst = max(big / little for little, big in api)
        figures.append(
            Figure(
                name=f"API p95 at {large:,} / at {small:,}, worst request",
                value=worst,
                unit="x",
                target="< 1.5 (flat with size)",
                met=worst < 1.5,
            )
        )
    report(
        "leads_queue",
        figures,
        context=(
            f"{', '.join(f'{n:,}' for n in options.sizes)} leads at 3 locations, "
            f"a coordinator of the largest (half the leads); gunicorn gthread 2 x 4, "
            f"production settings; p50/p95 of {options.requests} requests each "
            f"({max(10, options.requests // 4)} of the page) after 2 warm-ups, one "
            f"at a time; baseline: every SQL statement the "
            f"request ran, captured once and run raw through psycopg (rows fetched), "
            f"p95; ratio = request p95 / raw SQL p95; "
            f"{time.monotonic() - started:.0f} s in all"
        ),
    )


if __name__ == "__main__":
    main()

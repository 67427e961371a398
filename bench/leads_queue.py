"""How fast the staff queue (API and page) answers with many leads, against a
baseline in the same run.

Run `python bench/leads_queue.py [--leads 100000]` with DATABASE_URL pointing at a
PostgreSQL server (the test settings' default). It makes a throwaway database
`bench_<name>`, fills it with leads in bulk, ANALYZEs, and times requests through
Django's test client, signed in as a coordinator of one of two locations. The
baseline is the detail page of one lead: every figure is "x baseline". Then it
streams the whole CSV export and reports its peak Python memory next to that of a
tenth of the rows: flat memory means the rows are never all held at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("ACCESS_LOG", "false")  # one log line per timed request otherwise

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from clinics.models import StaffMember  # noqa: E402
from leads.models import Lead, LeadTask  # noqa: E402
from tests.support.factories import LocationFactory  # noqa: E402
from tests.support.staff_api import client_for, leads_bulk_create, staff  # noqa: E402

ROUNDS = 5
CALLS = 5

Params = dict[str, str | int]


def per_call_ms(operation: Callable[[], object]) -> float:
    """Best-of-rounds wall milliseconds per call."""
    operation()  # warm caches and the plan
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(CALLS):
            operation()
        best = min(best, (time.perf_counter() - started) / CALLS)
    return best * 1000


SAMPLES = 60


def percentiles_ms(operation: Callable[[], object]) -> tuple[float, float]:
    """(p50, p95) wall milliseconds of single calls, over SAMPLES calls."""
    operation()
    times = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        operation()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return times[len(times) // 2], times[int(0.95 * (len(times) - 1))]


def get(client: APIClient, url: str, params: Params | None = None) -> None:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content


def next_page_after(client: APIClient, rows: int, ordering: str) -> str:
    """The `next` link of a page that starts `rows` leads into the queue."""
    first: Params = {"ordering": ordering, "page_size": 200}
    body = client.get("/api/v1/leads", first).json()
    for _ in range(rows // 200 - 1):
        body = client.get(body["next"]).json()
    return str(body["next"])


def export_peak_kib(client: APIClient, params: Params) -> tuple[int, int]:
    """(rows, peak KiB of Python allocations) while streaming the export."""
    tracemalloc.start()
    response: Any = client.get("/api/v1/leads/export.csv", params)
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return rows, peak // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    count = parser.parse_args().leads
    if connection.vendor != "postgresql":
        sys.exit("Point DATABASE_URL at PostgreSQL: the numbers are about its plans.")
    setup_test_environment()
    connection.settings_dict["TEST"]["NAME"] = (
        f"bench_{connection.settings_dict['NAME']}"
    )
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(count)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(count: int) -> None:
    started = time.perf_counter()
    here = LocationFactory.create(slug="nisantasi")
    there = LocationFactory.create(slug="kadikoy")
    coordinator = staff(locations=[here], may_export=True)
    owners = [coordinator, *(staff(locations=[here]) for _ in range(7))]
    leads_bulk_create(count, locations=[here, there], owners=owners)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"{count} leads in {time.perf_counter() - started:.1f} s")

    client = client_for(coordinator)
    lead = Lead.objects.filter(location=here, tasks__in=LeadTask.objects.all()).first()
    assert lead is not None
    depth = min(count // 4, 10_000)
    deep = next_page_after(client, depth, "due")
    month_ago = (timezone.localdate() - dt.timedelta(days=30)).isoformat()
    measured = {
        "lead page (baseline)": per_call_ms(
            lambda: get(client, f"/api/v1/leads/{lead.code}")
        ),
        "timeline": per_call_ms(
            lambda: get(client, f"/api/v1/leads/{lead.code}/timeline")
        ),
        "queue, 50 most urgent": per_call_ms(lambda: get(client, "/api/v1/leads")),
        "queue, 200 most urgent": per_call_ms(
            lambda: get(client, "/api/v1/leads", {"page_size": 200})
        ),
        f"queue, 200 after the first {depth:,}": per_call_ms(lambda: get(client, deep)),
        "staff page: the queue (50, flags, counts)": per_call_ms(
            lambda: get(client, "/staff/")
        ),
        "staff page: the queue, overdue only": per_call_ms(
            lambda: get(client, "/staff/", {"overdue": "on"})
        ),
        "staff page: the lead page": per_call_ms(
            lambda: get(client, f"/staff/leads/{lead.code}/")
        ),
    }
    queues: dict[str, Params] = {
        "status=new,contacted": {"status": "new,contacted"},
        "owner=me -score": {"owner": "me", "ordering": "-score"},
        "owner=none": {"owner": "none"},
        "overdue=true": {"overdue": "true"},
        "treatment=prp outcome=review": {"treatment": "prp", "outcome": "review"},
        "created in the last 30 days": {
            "created_after": month_ago,
            "ordering": "-created",
        },
        "q=email": {"q": "patient4242@example.com"},
        "q=phone": {"q": "0532 000 42 42"},
        "q=part of a name": {"q": "atient 0424"},
    }
    for name, params in queues.items():
        measured[f"queue, {name}"] = per_call_ms(
            lambda params=params: get(  # type: ignore[misc]
                client, "/api/v1/leads", params
            )
        )

    baseline = measured["lead page (baseline)"]
    print(f"{'request (coordinator, half the leads)':44} {'ms':>8} {'x baseline':>11}")
    for name, ms in measured.items():
        print(f"{name:44} {ms:8.2f} {ms / baseline:10.1f}x")
    page_p50, page_p95 = percentiles_ms(lambda: get(client, "/staff/"))
    _base_p50, base_p95 = percentiles_ms(
        lambda: get(client, f"/api/v1/leads/{lead.code}")
    )
    print(
        f"staff queue page over {SAMPLES} requests: p50 {page_p50:.1f} ms, "
        f"p95 {page_p95:.1f} ms (baseline p95 {base_p95:.1f} ms, "
        f"{page_p95 / base_p95:.1f}x)"
    )

    admin = client_for(staff(StaffMember.Role.CLINIC_ADMIN))
    started = time.perf_counter()
    response: Any = admin.get("/api/v1/leads/export.csv")
    rows = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    seconds = time.perf_counter() - started
    print(f"export: {rows} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
    rows, peak = export_peak_kib(admin, {})
    some_rows, some_peak = export_peak_kib(admin, {"status": "new"})
    print(
        f"export peak Python memory: {rows} rows {peak:,} KiB, "
        f"{some_rows} rows {some_peak:,} KiB"
    )


if __name__ == "__main__":
    main()

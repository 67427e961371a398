"""/metrics: the service's numbers in Prometheus's text format, for signed-in staff
and the addresses in METRICS_ALLOWED_ADDRESSES; anyone else gets the 404 of a page
that does not exist.

Two kinds of numbers. What is counted as it happens (request latency, task
outcomes: core.metrics) lives in each process, added up across processes only in
multiprocess mode (PROMETHEUS_MULTIPROC_DIR). What the database knows (the outbox
backlog, overdue leads) is read at each scrape, in a fixed number of queries, so
it is the same whichever process answers. Here in config because those reads span
every app.
"""

import os
from collections.abc import Iterator

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from clinics.selectors import staff_role_get
from config.networks import address_in
from core import metrics as instruments
from core.selectors import outbox_backlog_list
from leads.selectors import lead_count_overdue
from staff.access import code_still_owed


class DatabaseGauges(Collector):
    """Gauges read from the database when collected: two queries per scrape."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        pending = GaugeMetricFamily(
            "clinic_outbox_pending",
            "Outbox rows not sent yet (waiting, retrying or being sent), by table; "
            'calendar syncs are kind="booking.calendarsync".',
            labels=["kind"],
        )
        oldest = GaugeMetricFamily(
            "clinic_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest outbox row not sent yet was written, by "
            "table; 0 when there is none.",
            labels=["kind"],
        )
        for backlog in outbox_backlog_list(now=now):
            pending.add_metric([backlog.kind], backlog.pending)
            oldest.add_metric([backlog.kind], backlog.oldest_age_seconds or 0.0)
        yield pending
        yield oldest
        yield GaugeMetricFamily(
            "clinic_leads_overdue",
            "Leads not contacted yet and past their first-contact deadline, at "
            "every location (the queue's overdue filter).",
            value=lead_count_overdue(now=now),
        )


def metrics_registry() -> CollectorRegistry:
    """What one scrape shows: the counters (every process's in multiprocess mode,
    else this process's) and the database gauges."""
    registry = CollectorRegistry()
    # prometheus_client chose its storage from this variable when it was imported.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        for instrument in instruments.INSTRUMENTS:
            registry.register(instrument)
    registry.register(DatabaseGauges())
    return registry


def metrics_may_read(request: HttpRequest) -> bool:
    """Staff with a role, fully signed in, or a connection from an allowed address.

    REMOTE_ADDR, not the client address behind proxies: X-Forwarded-For is what
    the client chose to send, until a proxy of ours appends to it.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if address_in(remote, settings.METRICS_ALLOWED_ADDRESSES):
        return True
    user = request.user
    if not user.is_authenticated:
        return False
    return staff_role_get(user) is not None and not code_still_owed(user)


def metrics(request: HttpRequest) -> HttpResponse:
    """The metrics in the text format; 404 to anyone who may not read them, before
    anything else, so that nothing tells them the page exists."""
    if not metrics_may_read(request):
        raise Http404
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(
        generate_latest(metrics_registry()), content_type=CONTENT_TYPE_PLAIN_0_0_4
    )

"""/metrics: who may read it, and what Prometheus finds there."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from celery import signals
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from clinics.models import Location, StaffMember
from config.celery_app import app as celery_app
from config.networks import networks_parse
from core import metrics
from core.models import DeliveryStatus
from leads.models import Lead
from tests.support.factories import LeadFactory, StaffMemberFactory, UserFactory
from tests.support.outbox import calendar_sync_make, staff_notification_make

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = "10.20.0.7"
SCRAPER_NETWORK = networks_parse("METRICS_ALLOWED_ADDRESSES", ["10.20.0.0/24"])


def _scrape(client: Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample /metrics shows, by name and labels, read as Prometheus would."""
    with override_settings(METRICS_ALLOWED_ADDRESSES=SCRAPER_NETWORK):
        response = client.get("/metrics", REMOTE_ADDR=PROMETHEUS)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


# -- Who may read it ----------------------------------------------------------------


def test_metrics_answer_404_to_anyone_else_as_if_there_were_no_such_page(
    client: Client,
) -> None:
    with override_settings(METRICS_ALLOWED_ADDRESSES=SCRAPER_NETWORK):
        anonymous = client.get("/metrics", REMOTE_ADDR="192.0.2.10")
        posted = client.post("/metrics", REMOTE_ADDR="192.0.2.10")
        # The address a client claims is not the one it comes from.
        forwarded = client.get(
            "/metrics", REMOTE_ADDR="192.0.2.10", HTTP_X_FORWARDED_FOR=PROMETHEUS
        )
    unknown = client.get("/no-such-page", REMOTE_ADDR="192.0.2.10")

    assert anonymous.status_code == posted.status_code == forwarded.status_code == 404
    # The same page, but for the language switcher's link back to the path.
    assert anonymous.content == unknown.content.replace(b"/no-such-page", b"/metrics")
    assert b"clinic_" not in anonymous.content


def test_metrics_answer_404_to_a_signed_in_user_without_a_staff_role(
    client: Client,
) -> None:
    client.force_login(UserFactory.create())

    assert client.get("/metrics").status_code == 404


def test_metrics_serve_signed_in_staff_of_any_role(
    client: Client, location: Location
) -> None:
    for role in StaffMember.Role.values:
        member = StaffMemberFactory.create(role=role, locations=[location])
        client.force_login(member.user)

        response = client.get("/metrics")

        assert response.status_code == 200, role
        assert response["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert b"clinic_outbox_pending" in response.content


def test_metrics_serve_an_allowed_address_and_network_without_a_sign_in(
    client: Client,
) -> None:
    allowed = networks_parse("METRICS_ALLOWED_ADDRESSES", ["192.0.2.5", "10.20.0.0/24"])

    with override_settings(METRICS_ALLOWED_ADDRESSES=allowed):
        single = client.get("/metrics", REMOTE_ADDR="192.0.2.5")
        in_network = client.get("/metrics", REMOTE_ADDR="10.20.0.200")
        as_ipv6 = client.get("/metrics", REMOTE_ADDR="::ffff:10.20.0.9")
        next_door = client.get("/metrics", REMOTE_ADDR="192.0.2.6")

    assert single.status_code == in_network.status_code == as_ipv6.status_code == 200
    assert next_door.status_code == 404


@pytest.mark.parametrize("value", ["10.20.0.7/24", "prometheus.internal", "10.0.0"])
def test_an_allowed_address_that_is_not_one_stops_the_service_from_starting(
    value: str,
) -> None:
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_ADDRESSES"):
        networks_parse("METRICS_ALLOWED_ADDRESSES", [value])


def test_metrics_are_never_cached(client: Client) -> None:
    with override_settings(METRICS_ALLOWED_ADDRESSES=SCRAPER_NETWORK):
        response = client.get("/metrics", REMOTE_ADDR=PROMETHEUS)

    assert "no-store" in response["Cache-Control"]


# -- What it shows ------------------------------------------------------------------


def test_metrics_show_the_outbox_backlog_and_the_age_of_its_oldest_row_by_table(
    client: Client, location: Location
) -> None:
    staff_notification_make(age=dt.timedelta(minutes=10))
    staff_notification_make(age=dt.timedelta(minutes=1))
    staff_notification_make(age=dt.timedelta(hours=5), status=DeliveryStatus.SENT)
    calendar_sync_make(location, age=dt.timedelta(seconds=30))

    samples = _scrape(client)

    notifications = {"kind": "leads.staffnotification"}
    assert _value(samples, "clinic_outbox_pending", **notifications) == 2
    age = "clinic_outbox_oldest_pending_age_seconds"
    # The sent one, older still, is not waiting.
    assert 600 <= _value(samples, age, **notifications) < 660
    # Calendar syncs waiting for the practitioners' calendars.
    syncs = {"kind": "booking.calendarsync"}
    assert _value(samples, "clinic_outbox_pending", **syncs) == 1
    assert _value(samples, age, **syncs) >= 30
    # Every outbox table is listed, at zero when nothing waits.
    assert ("clinic_outbox_pending", frozenset({("kind", "intake.resumeemail")})) in (
        samples
    )
    assert _value(samples, "clinic_outbox_pending", kind="intake.resumeemail") == 0


def test_metrics_count_the_leads_past_their_first_contact_deadline(
    client: Client, location: Location
) -> None:
    late = timezone.now() - dt.timedelta(minutes=5)
    LeadFactory.create_batch(2, location=location, first_contact_due_at=late)
    LeadFactory.create(location=location)  # due in an hour
    LeadFactory.create(
        location=location, first_contact_due_at=late, first_contacted_at=late
    )
    survivor = LeadFactory.create(location=location)
    LeadFactory.create(
        location=location, first_contact_due_at=late, merged_into=survivor
    )

    samples = _scrape(client)

    assert _value(samples, "clinic_leads_overdue") == 2
    assert Lead.objects.count() == 6


def test_metrics_time_a_request_by_its_url_pattern_not_its_path(
    client: Client, location: Location
) -> None:
    member = StaffMemberFactory.create(locations=[location])
    lead = LeadFactory.create(location=location)
    client.force_login(member.user)
    route = {"route": "/staff/leads/<uuid:code>/", "method": "GET", "status": "2xx"}
    count = "clinic_http_request_duration_seconds_count"
    before = _value(_scrape(client), count, **route)

    assert client.get(f"/staff/leads/{lead.code}/").status_code == 200

    samples = _scrape(client)
    assert _value(samples, count, **route) == before + 1
    assert not any(str(lead.code) in str(labels) for _, labels in samples)


def test_metrics_put_unmatched_paths_and_odd_methods_under_one_label_each(
    client: Client,
) -> None:
    unmatched = {"route": "unmatched", "method": "other", "status": "4xx"}
    count = "clinic_http_request_duration_seconds_count"
    before = _value(_scrape(client), count, **unmatched)

    client.generic("BREW", "/a-path-with-a-token-abc123")

    samples = _scrape(client)
    assert _value(samples, count, **unmatched) == before + 1
    assert not any("abc123" in str(labels) for _, labels in samples)


def test_metrics_count_celery_tasks_by_name_and_outcome(client: Client) -> None:
    name = "core.tasks.heartbeat_record_task"
    heartbeat_record_task = celery_app.tasks[name]
    total = "clinic_celery_tasks_total"
    before = _scrape(client)

    heartbeat_record_task.apply()
    # What a worker's child announces when a task raises or asks to be retried.
    signals.task_failure.send(sender=heartbeat_record_task, exception=RuntimeError())
    signals.task_retry.send(sender=heartbeat_record_task, reason="broker away")

    after = _scrape(client)
    for outcome in ("succeeded", "failed", "retried"):
        labels = {"task": name, "outcome": outcome}
        assert _value(after, total, **labels) == _value(before, total, **labels) + 1


def test_a_scrape_reads_the_database_in_two_queries_however_much_waits(
    client: Client, location: Location, django_assert_max_num_queries: Any
) -> None:
    for minutes in (1, 2, 3):
        staff_notification_make(age=dt.timedelta(minutes=minutes))
    calendar_sync_make(location, age=dt.timedelta(minutes=1))
    LeadFactory.create(first_contact_due_at=timezone.now() - dt.timedelta(minutes=5))

    with django_assert_max_num_queries(2):
        samples = _scrape(client)

    assert _value(samples, "clinic_leads_overdue") == 1


def test_metrics_add_up_the_counts_of_other_processes_in_multiprocess_mode(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker process, counting into the shared folder as a Celery child does.
    worker = (
        "from types import SimpleNamespace\n"
        "from core.metrics import task_outcome_record\n"
        "task = SimpleNamespace(name='leads.tasks.lead_deadlines_escalate_task')\n"
        "for _ in range(3):\n"
        "    task_outcome_record(task, outcome='succeeded')\n"
    )
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-c", worker], env=environment, check=True, cwd=ROOT
    )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))

    samples = _scrape(client)

    labels = {
        "task": "leads.tasks.lead_deadlines_escalate_task",
        "outcome": "succeeded",
    }
    assert _value(samples, "clinic_celery_tasks_total", **labels) == 3
    assert _value(samples, "clinic_outbox_pending", kind="leads.webhookdelivery") == 0


def test_a_request_is_answered_when_its_latency_cannot_be_recorded(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def folder_gone(**_: str) -> None:
        raise FileNotFoundError("/run/prometheus/histogram_12.db")

    monkeypatch.setattr(metrics.REQUEST_DURATION, "labels", folder_gone)

    assert client.get("/en/").status_code == 200

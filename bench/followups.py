"""Follow-up throughput: due messages through the outbox, Celery and SMTP, beside a
raw smtplib loop to the same server over one connection.

A throwaway database (bench_followups, the demo clinic) gets `--messages` leads and
as many reminders due now; an aiosmtpd process with a handler that only notes each
message (bench/smtp_sink.py) receives them; one Celery worker process (prefork, one
child, the production settings) sends them after the due sweep runs once, as beat
runs it. Meanwhile a "patient's acknowledgment" (a message due at once, enqueued
as a submission enqueues it) is made every half second: its time to the server is
the speed-to-lead figure under the backlog. The baseline sends the bytes of one
real rendered reminder as many times over one smtplib connection, before and after
the run (the higher of the two is the baseline). Every message must arrive exactly
once, with its own Message-ID.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH.parent) not in sys.path:
    sys.path.insert(0, str(BENCH.parent))

from bench.common import (  # noqa: E402
    REDIS,
    RESULTS,
    Figure,
    database_drop,
    database_prepare,
    peak_rss_mib,
    percentile,
    report,
    running_worker,
    service_environment,
)
from bench.smtp_sink import arrivals  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

DATABASE = "bench_followups"
REDIS_DB, BROKER_DB = 12, 13
PROBE_EVERY_SECONDS = 0.5
# The bench's own queries compete with the worker: count now and then.
COUNT_EVERY_SECONDS = 0.5
TIMEOUT_SECONDS = 900
TARGET_RATIO = 0.5
TARGET_ACK_MS = 1000
BASELINE_ID = b"<baseline@bench.invalid>"


def smtp_start(port: int, sink: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "bench.smtp_sink.Sink", str(sink)],
        cwd=BENCH.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the SMTP server did not start") from None
            time.sleep(0.05)


def baseline(port: int, raw: bytes, *, sender: str, to: str, count: int) -> float:
    """Messages per second of a bare smtplib loop over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for _ in range(count):
            smtp.sendmail(sender, [to], raw)
    return count / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()
    count: int = options.messages

    port = free_port()
    env = service_environment(
        DATABASE,
        redis_db=REDIS_DB,
        broker_db=BROKER_DB,
        EMAIL_URL=f"smtp://127.0.0.1:{port}",
        # INFO shows each task's queue turn and time in the worker's log.
        LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        LOG_FORMAT="text",
    )
    print(f"database {DATABASE}: migrate, demo clinic", flush=True)
    database_prepare(env, DATABASE)
    os.environ.update(env)
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.mail.backends.base import BaseEmailBackend
    from django.utils import timezone

    from clinics.models import Location
    from core.models import WORKER_HEARTBEAT_PREFIX, DeliveryStatus, Heartbeat
    from followups import services
    from followups.models import FollowUpMessage, Step
    from followups.tasks import followup_message_send_task, followup_send_due_task
    from leads.models import Lead

    for db in (REDIS_DB, BROKER_DB):
        redis.Redis.from_url(f"{REDIS}/{db}").flushdb()

    started = time.monotonic()
    location = Location.objects.order_by("pk").first()
    step = (
        Step.objects.select_related("sequence")
        .filter(template_key="reminder_unbooked")
        .order_by("pk")
        .first()
    )
    assert step is not None, "the demo data has no reminder step"
    now = timezone.now()
    leads = Lead.objects.bulk_create(
        (
            Lead(
                location=location,
                full_name=f"Patient Number{n}",
                email=f"patient{n}@example.org",
                email_key=f"patient{n}@example.org",
                phone=f"+90555{n:07d}",
                preferred_language="en",
                first_contact_due_at=now,
            )
            for n in range(count)
        ),
        batch_size=2000,
    )
    messages = FollowUpMessage.objects.bulk_create(
        (
            FollowUpMessage(
                lead=lead,
                step=step,
                occurrence=f"bench:{n}",
                category=step.sequence.category,
                next_attempt_at=now,
                created_at=now,
            )
            for n, lead in enumerate(leads)
        ),
        batch_size=2000,
    )
    bulk_ids = {m.pk for m in messages}
    domain = settings.CALENDAR_UID_DOMAIN

    def message_id(pk: int) -> str:
        return f"<followup.{pk}@{domain}>"

    print(f"{count} leads and due reminders in {time.monotonic() - started:.1f} s")

    # One real rendered reminder, as the service would send it, for the baseline.
    class Capture(BaseEmailBackend):
        def send_messages(self, email_messages):  # type: ignore[no-untyped-def]
            self.sent = list(email_messages)
            return len(self.sent)

    capture = Capture()
    first = FollowUpMessage.objects.select_related(*services.SEND_RELATED).get(
        pk=min(bulk_ids)
    )
    services._send(first, shared=services._Shared.of([first]), connection=capture)
    email = capture.sent[0]
    # Its own Message-ID, so that the sink tells the baseline's from the service's.
    raw = (
        email.message()
        .as_bytes(linesep="\r\n")
        .replace(first.message_id.encode(), BASELINE_ID)
    )
    sender, to = email.from_email, email.to[0]
    print(f"one reminder: {len(raw):,} bytes")

    sink = RESULTS / "followups-sink.log"
    RESULTS.mkdir(parents=True, exist_ok=True)
    sink.unlink(missing_ok=True)
    smtp = smtp_start(port, sink)
    try:
        before = baseline(port, raw, sender=sender, to=to, count=count)
        print(f"baseline before: {before:,.1f} msg/s", flush=True)
        offset = len(arrivals(str(sink)))

        log = RESULTS / "followups-worker.log"
        with running_worker(env, concurrency=1, log=log) as worker:
            ready = Heartbeat.objects.filter(source__startswith=WORKER_HEARTBEAT_PREFIX)
            deadline = time.monotonic() + 60
            while not ready.exists():
                if worker.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the worker did not start: see {log}")
                time.sleep(0.2)
            time.sleep(1)  # its consumer is up a moment after the heartbeat

            swept_at = time.time()
            followup_send_due_task.delay()
            sent = FollowUpMessage.objects.filter(
                status=DeliveryStatus.SENT, occurrence__startswith="bench:"
            )
            probes: dict[str, float] = {}
            probe_lead = leads[0]
            next_probe = time.monotonic()
            deadline = time.monotonic() + TIMEOUT_SECONDS
            last_line = 0.0
            done, counted = 0, 0.0
            while True:
                if time.monotonic() - counted >= COUNT_EVERY_SECONDS:
                    done, counted = sent.count(), time.monotonic()
                if done >= count:
                    break
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise RuntimeError(f"{done} of {count} sent in time: see {log}")
                if time.monotonic() >= next_probe:
                    probe = FollowUpMessage.objects.create(
                        lead=probe_lead,
                        step=step,
                        occurrence=f"probe:{len(probes)}",
                        category=step.sequence.category,
                        next_attempt_at=timezone.now(),
                    )
                    probes[message_id(probe.pk)] = time.time()
                    followup_message_send_task.delay(probe.pk)
                    next_probe += PROBE_EVERY_SECONDS
                if time.monotonic() - last_line >= 2:
                    last_line = time.monotonic()
                    rate = done / max(time.time() - swept_at, 1e-9)
                    print(f"  {done:>6} of {count} sent, {rate:,.0f} msg/s", flush=True)
                time.sleep(0.02)
            # The last acknowledgments, then the worker's memory before it stops.
            waited = time.monotonic() + 10
            while time.monotonic() < waited:
                got = {mid for _at, mid in arrivals(str(sink))[offset:]}
                if set(probes) <= got:
                    break
                time.sleep(0.1)
            rss = peak_rss_mib(worker.pid)
        after = baseline(port, raw, sender=sender, to=to, count=count)
        print(f"baseline after: {after:,.1f} msg/s", flush=True)
    finally:
        smtp.terminate()
        smtp.wait(timeout=10)

    service = [
        (at, mid)
        for at, mid in arrivals(str(sink))[offset:]
        if mid != BASELINE_ID.decode()
    ]
    expected = {message_id(pk) for pk in bulk_ids}
    seen = Counter(mid for _at, mid in service)
    bulk_arrivals = [at for at, mid in service if mid in expected]
    lost = expected - set(seen)
    duplicated = sum(n - 1 for mid, n in seen.items() if mid in expected)
    unexpected = set(seen) - expected - set(probes)
    elapsed = max(bulk_arrivals) - swept_at
    rate = count / elapsed
    base = max(before, after)
    arrived = {mid: at for at, mid in reversed(service)}  # the first arrival
    waits = [(arrived[mid] - asked) * 1000 for mid, asked in probes.items()
             if mid in arrived]  # fmt: skip
    probes_lost = len(probes) - len(waits)
    statuses = Counter(
        FollowUpMessage.objects.filter(pk__in=bulk_ids).values_list("status", flat=True)
    )
    exact = not lost and not duplicated and not unexpected and not probes_lost
    print(
        f"sent {count} in {elapsed:.1f} s; statuses {dict(statuses)}; "
        f"lost {len(lost)}, "
        f"duplicated {duplicated}, unexpected {len(unexpected)}, "
        f"acknowledgments {len(waits)} of {len(probes)}"
    )
    p95 = percentile(waits, 0.95) if waits else float("inf")
    report(
        "followups",
        [
            Figure(
                "follow-ups sent, outbox + Celery + SMTP, 1 worker",
                rate,
                "msg/s",
                baseline=base,
                baseline_name="smtplib loop, one connection",
                target=f">= {TARGET_RATIO}",
                met=rate / base >= TARGET_RATIO,
            ),
            Figure("smtplib loop, one connection (baseline, before)", before, "msg/s"),
            Figure("smtplib loop, one connection (baseline, after)", after, "msg/s"),
            Figure(
                f"acknowledgment to SMTP during the backlog, p95 of {len(waits)}",
                p95,
                "ms",
                target=f"< {TARGET_ACK_MS} ms",
                met=p95 < TARGET_ACK_MS,
            ),
            Figure(
                "acknowledgment to SMTP during the backlog, max",
                max(waits, default=float("inf")),
                "ms",
            ),
            Figure("worker peak RSS (largest process)", rss, "MiB"),
            Figure(
                "messages lost + duplicated + unknown (each sent exactly once)",
                len(lost) + duplicated + len(unexpected) + probes_lost,
                "msgs",
                target="0",
                met=exact,
            ),
        ],
        context=(
            f"{count} due reminders ({len(raw):,} bytes each), one worker (prefork x1),"
            f" batches of {settings.FOLLOWUP_BATCH_SIZE} over one SMTP connection,"
            f" counting aiosmtpd handler; an acknowledgment every"
            f" {PROBE_EVERY_SECONDS} s meanwhile"
        ),
    )
    if not options.keep:
        from django.db import connections

        connections.close_all()
        database_drop(DATABASE)
    return 0 if exact and statuses.get(DeliveryStatus.SENT) == count else 1


if __name__ == "__main__":
    sys.exit(main())

"""Speed to lead: from a submission's POST to the lead, the emails and the free slots.

Run `python bench/speed_to_lead.py [--submissions 200] [--rate 4] [--backlog 10000]`
with PostgreSQL and Redis on this machine (bench/common.py). It makes a throwaway
database `bench_speed` with the demo clinic and its appointment types, and starts the
real stack: gunicorn (config/gunicorn.py: gthread, 3 x 4; the production settings
plus bench/urls.py), one Celery worker (one process, no -Q: every queue the service
uses) on Redis database 15,
and an SMTP server process (aiosmtpd, bench/smtp_log.py) that notes when each message
arrived. A load generator in this process POSTs complete questionnaires, each from
another person, at a steady rate, and measures from just before each POST to:

(a) the lead visible in the staff API (GET /api/v1/leads?q=<email>, the demo
    coordinator's API token, polled from when the POST answered);
(b) the patient's acknowledgment accepted by the SMTP server (the message to the
    person's address: the "Acknowledgment" sequence's step of no delay);
(c) the coordinator's notification accepted (the "assigned" staff notification: the
    demo clinic's round-robin rule gives every new lead at Nisantasi to the demo
    coordinator; the message names the person);
(d) the booking link's page (the submission's answer carries it) served with free
    times to choose from.

Right after each POST answers, the load generator also sends one raw smtplib message
to the same SMTP server: POST plus that message is the floor of (b). The
acknowledgments' own rows split (b) in two: from the row's writing (in the
submission's transaction) to a worker's claim, which is the wait for the broker and
the worker, and from the claim to sent.

Two phases of `--submissions` each. The first runs on a quiet worker. Before the
second, `--backlog` extra leads are bulk-created, each with a reminder follow-up due
now; then the due sweep is sent through Celery as beat sends it
(followups.tasks.followup_send_due_task), again whenever the broker's queues hold
fewer than LOW_WATER tasks, so the worker has bulk mail to send for the whole phase
(one sweep hands the broker at most core.outbox.DUE_BATCH messages). The sweep goes
wherever the service's routing sends it, so the script measures the same way with
one queue or with separate queues for at-once and bulk mail.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import redis  # noqa: E402

from bench.common import (  # noqa: E402
    REDIS,
    RESULTS,
    Figure,
    database_drop,
    database_prepare,
    manage,
    peak_rss_mib,
    percentile,
    report,
    running_gunicorn,
    running_worker,
    service_environment,
)
from bench.smtp_log import arrivals  # noqa: E402
from tests.support.answers import complete_answers  # noqa: E402
from tests.support.processes import free_port, process_stop  # noqa: E402

DATABASE = "bench_speed"
REDIS_DB, BROKER_DB = 8, 15
# The demo clinic's coordinator: the round-robin rule's only member, so every new
# lead at Nisantasi is theirs and they are told by email.
COORDINATOR = "coordinator"
COORDINATOR_EMAIL = "coordinator@demo-clinic.example"
TARGET_MS = 1000.0
WARM_UP = 6
# How long after the last POST of a phase its emails may still arrive.
WAIT_SECONDS = float(os.environ.get("BENCH_WAIT_SECONDS", 60))
# The sweep is sent again when the broker holds fewer tasks than this.
LOW_WATER = 50
BACKLOG_OCCURRENCE = "bench-backlog"
BASELINE_DOMAIN = "bench-baseline.example"


@dataclass
class Submission:
    """One person's submission and when (time.time()) each thing was seen."""

    number: int
    posted_at: float = 0.0
    answered_at: float = 0.0
    booking_path: str = ""
    lead_seen_at: float | None = None
    slots_seen_at: float | None = None
    error: str = ""

    @property
    def email(self) -> str:
        return f"bench.person.{self.number}@example.com"

    @property
    def body(self) -> bytes:
        answers = complete_answers(
            full_name=f"Bench Person {self.number}",
            email=self.email,
            phone=f"+90532{self.number:07d}",
            preferred_language="en",
        )
        return json.dumps({"answers": answers, "language": "en"}).encode()


@dataclass(frozen=True)
class Phase:
    name: str
    submissions: list[Submission]
    # Per submission number: when the acknowledgment, the notification and the
    # raw baseline message arrived (absent: not within WAIT_SECONDS).
    acknowledged: dict[int, float]
    notified: dict[int, float]
    raw: dict[int, float]
    # The acknowledgments' own rows: ms from being written (the submission's
    # transaction) to a worker's claim, and from the claim to sent.
    waited: list[float]
    sending: list[float]


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body, headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Load:
    """The load generator: POSTs at a steady rate from a pool of threads, and for
    each, polls the staff API (a) and the booking page (d) at once, and sends the
    raw baseline message."""

    def __init__(self, *, port: int, token: str, smtp_port: int) -> None:
        self.port, self.token, self.smtp_port = port, token, smtp_port
        self.pool = ThreadPoolExecutor(max_workers=48)

    def run(self, submissions: list[Submission], *, rate: float) -> None:
        """Every submission, one each 1/`rate` s; returns when (a) and (d) of each
        were seen (or gave up)."""
        started = time.monotonic() + 0.1
        posted: list[Future[list[Future[None]]]] = []
        for n, submission in enumerate(submissions):
            wait = started + n / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            posted.append(self.pool.submit(self._post, submission))
        for each in posted:
            for child in each.result():
                child.result()

    def _post(self, submission: Submission) -> list[Future[None]]:
        submission.posted_at = time.time()
        status, text = request(
            self.port,
            "POST",
            "/api/v1/submissions",
            submission.body,
            {"Content-Type": "application/json"},
        )
        submission.answered_at = time.time()
        if status != 201:
            submission.error = f"POST {status}: {text[:300]!r}"
            return []
        offer = json.loads(text)["booking"]
        if offer is None:
            submission.error = "no booking offer: the answers lead to no bookable type"
            return []
        parts = urlsplit(offer["url"])
        submission.booking_path = parts.path + (
            f"?{parts.query}" if parts.query else ""
        )
        children = [
            self.pool.submit(self._lead_wait, submission),
            self.pool.submit(self._slots_wait, submission),
        ]
        self._raw_send(submission)
        return children

    def _poll(
        self, submission: Submission, what: str, check: Callable[[], str]
    ) -> None:
        """Call `check` until it answers "" (seen); its last answer is the error."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            last = check()
            if not last:
                return
            time.sleep(0.02)
        submission.error = f"{what}: not seen in {WAIT_SECONDS:.0f} s: {last}"

    def _lead_wait(self, submission: Submission) -> None:
        path = f"/api/v1/leads?q={quote(submission.email)}&page_size=1"
        headers = {"Authorization": f"Token {self.token}"}

        def seen() -> str:
            status, text = request(self.port, "GET", path, headers=headers)
            if status == 200 and json.loads(text)["results"]:
                submission.lead_seen_at = time.time()
                return ""
            return f"{status} {text[:200]!r}"

        self._poll(submission, "(a) the lead in the staff API", seen)

    def _slots_wait(self, submission: Submission) -> None:
        def served() -> str:
            status, text = request(self.port, "GET", submission.booking_path)
            # A time to choose: the page's radio buttons (templates/booking/page.html).
            if status == 200 and b'name="time"' in text:
                submission.slots_seen_at = time.time()
                return ""
            return f"{status} {text[:200]!r}"

        self._poll(submission, "(d) free times on the booking page", served)

    def _raw_send(self, submission: Submission) -> None:
        message = EmailMessage()
        message["From"] = "bench@bench-baseline.example"
        message["To"] = f"baseline.{submission.number}@{BASELINE_DOMAIN}"
        message["Subject"] = f"Baseline for Bench Person {submission.number}"
        message.set_content("The floor of the acknowledgment's time.")
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            client.send_message(message)

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def emails_wait(
    log: Path, submissions: list[Submission]
) -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
    """When each submission's acknowledgment, notification and raw message
    arrived; waits until all have, or WAIT_SECONDS after the last POST."""
    numbers = {submission.number: submission for submission in submissions}
    last = max(submission.posted_at for submission in submissions)
    while True:
        acknowledged: dict[int, float] = {}
        notified: dict[int, float] = {}
        raw: dict[int, float] = {}
        for arrival in arrivals(log):
            person = arrival["person"]
            if person not in numbers:
                continue
            if numbers[person].email in arrival["to"]:
                kept = acknowledged
            elif COORDINATOR_EMAIL in arrival["to"]:
                kept = notified
            elif any(to.endswith(f"@{BASELINE_DOMAIN}") for to in arrival["to"]):
                kept = raw
            else:
                continue
            kept[person] = min(kept.get(person, arrival["time"]), arrival["time"])
        complete = all(
            len(found) == len(numbers) for found in (acknowledged, notified, raw)
        )
        if complete or time.time() > last + WAIT_SECONDS:
            return acknowledged, notified, raw
        time.sleep(0.25)


def queued(broker: redis.Redis) -> int:
    """Tasks waiting in the broker: the length of every list (each queue, and each
    priority step of one, is a Redis list in kombu's transport)."""
    total = 0
    for key in broker.scan_iter(count=1000):
        if broker.type(key) == b"list":
            total += int(broker.llen(key))
    return total


class Beat(threading.Thread):
    """Sends the due sweep as beat does, whenever the broker runs low, until
    stopped; counts the sweeps."""

    def __init__(self, broker: redis.Redis) -> None:
        super().__init__(daemon=True)
        self.broker = broker
        self.stopped = threading.Event()
        self.sweeps = 0

    def run(self) -> None:
        from followups.tasks import followup_send_due_task

        while not self.stopped.is_set():
            if queued(self.broker) < LOW_WATER:
                followup_send_due_task.delay()
                self.sweeps += 1
                # Time for the sweep to run and fill the queue before looking again.
                self.stopped.wait(3.0)
            else:
                self.stopped.wait(0.25)


def backlog_create(count: int) -> None:
    """`count` extra leads like the first bench person's, each with the first
    unbooked reminder due now (the sweep's kind of mail: bulk, not at once)."""
    from django.utils import timezone

    from followups.models import FollowUpMessage, Step
    from leads.models import Lead, LeadEvent
    from leads.selectors import lead_email_key

    model: Any = Lead
    template = model.objects.filter(email__startswith="bench.person.").earliest("pk")
    # The reminder's text names the next steps from the submission, as a real one.
    event = LeadEvent.objects.filter(lead=template, submission__isnull=False).first()
    step = Step.objects.filter(template_key="reminder_unbooked").earliest("position")
    copied = {
        field.attname: getattr(template, field.attname)
        for field in model._meta.concrete_fields
        if field.attname not in ("id", "code")
    }
    leads = []
    for n in range(count):
        email = f"backlog.{n}@bulk.example"
        leads.append(
            model(
                **{
                    **copied,
                    "full_name": f"Backlog Person {n}",
                    "email": email,
                    "email_key": lead_email_key(email),
                    "phone": f"+90533{n:07d}",
                }
            )
        )
    model.objects.bulk_create(leads, batch_size=2000)
    now = timezone.now()
    FollowUpMessage.objects.bulk_create(
        (
            FollowUpMessage(
                lead=lead,
                step=step,
                event=event,
                occurrence=BACKLOG_OCCURRENCE,
                category=step.sequence.category,
                next_attempt_at=now,
                created_at=now,
            )
            for lead in leads
        ),
        batch_size=2000,
    )


def backlog_sent() -> int:
    from followups.models import FollowUpMessage

    return FollowUpMessage.objects.filter(
        occurrence=BACKLOG_OCCURRENCE, status="sent"
    ).count()


def api_token() -> str:
    from django.contrib.auth.models import User

    from clinics.services import api_token_create

    user = User.objects.get(username=COORDINATOR)
    _token, key = api_token_create(user=user, name="bench speed to lead", days=1)
    return key


@dataclass
class Smtp:
    port: int
    log: Path
    process: subprocess.Popen[bytes]


def smtp_start(log: Path) -> Smtp:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "bench.smtp_log.ArrivalLog", str(log)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return Smtp(port, log, process)
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process_stop(process)
                raise RuntimeError("the SMTP server did not start") from None
            time.sleep(0.05)


def phase_run(
    name: str,
    load: Load,
    smtp: Smtp,
    numbers: range,
    *,
    rate: float,
    during: Callable[[], None] | None = None,
) -> Phase:
    submissions = [Submission(number) for number in numbers]
    load.run(submissions, rate=rate)
    if during is not None:
        during()
    failed = [submission.error for submission in submissions if submission.error]
    if failed:
        raise RuntimeError(f"{name}: {len(failed)} failed, the first: {failed[0]}")
    acknowledged, notified, raw = emails_wait(smtp.log, submissions)
    waited, sending = acknowledgments_split(submissions)
    return Phase(name, submissions, acknowledged, notified, raw, waited, sending)


def acknowledgments_split(
    submissions: list[Submission],
) -> tuple[list[float], list[float]]:
    """For each acknowledgment sent: ms from its row's creation to the worker's
    claim (the claim sets the next attempt to the claim time plus the lease, and a
    send leaves it), and from the claim to sent."""
    from followups.models import FollowUpMessage
    from followups.services import POLICY

    rows = FollowUpMessage.objects.filter(
        lead__email__in=[submission.email for submission in submissions],
        step__template_key="acknowledgment",
        status="sent",
    ).values_list("created_at", "next_attempt_at", "sent_at")
    waited, sending = [], []
    for created_at, next_attempt_at, sent_at in rows:
        if sent_at is None:
            continue
        claimed_at = next_attempt_at - POLICY.lease
        waited.append((claimed_at - created_at).total_seconds() * 1000)
        sending.append((sent_at - claimed_at).total_seconds() * 1000)
    return waited, sending


def figures_of(phase: Phase) -> list[Figure]:
    """POST latency, the raw floor, and p50/p95/p99 of (a)-(d), ms."""
    posted = {s.number: s.posted_at for s in phase.submissions}
    cut = max(posted.values()) + WAIT_SECONDS

    def after_post(seen: dict[int, float]) -> list[float]:
        # Not seen in time: counted at the cut, so the percentile is a lower bound.
        return [(seen.get(n, cut) - at) * 1000 for n, at in posted.items()]

    post = [(s.answered_at - s.posted_at) * 1000 for s in phase.submissions]
    post_p95 = percentile(post, 0.95)
    measured = {
        "(a) lead in the staff API": after_post(
            {s.number: s.lead_seen_at for s in phase.submissions if s.lead_seen_at}
        ),
        "(b) patient's acknowledgment accepted": after_post(phase.acknowledged),
        "(c) coordinator's notification accepted": after_post(phase.notified),
        "(d) booking page with free times": after_post(
            {s.number: s.slots_seen_at for s in phase.submissions if s.slots_seen_at}
        ),
    }
    p = phase.name
    figures = [
        Figure(f"{p}: POST /api/v1/submissions p50", percentile(post, 0.5), "ms"),
        Figure(f"{p}: POST /api/v1/submissions p95", post_p95, "ms"),
        Figure(
            f"{p}: POST + a raw smtplib message accepted, p50",
            percentile(after_post(phase.raw), 0.5),
            "ms",
        ),
    ]
    for label, values in measured.items():
        for share in (0.5, 0.95, 0.99):
            value = percentile(values, share)
            if label.startswith("(b)") and share == 0.95:
                figures.append(
                    Figure(
                        f"{p}: {label} p95",
                        value,
                        "ms",
                        baseline=post_p95,
                        baseline_name="POST p95",
                        target=f"p95 < {TARGET_MS:.0f} ms",
                        met=value < TARGET_MS,
                    )
                )
            else:
                name = f"{p}: {label} p{share * 100:.0f}"
                figures.append(Figure(name, value, "ms"))
        if label.startswith("(b)") and phase.waited:
            figures += [
                Figure(
                    f"{p}: (b) of which written to claimed, p50",
                    percentile(phase.waited, 0.5),
                    "ms",
                ),
                Figure(
                    f"{p}: (b) of which written to claimed, p95",
                    percentile(phase.waited, 0.95),
                    "ms",
                ),
                Figure(
                    f"{p}: (b) of which claimed to sent, p50",
                    percentile(phase.sending, 0.5),
                    "ms",
                ),
            ]
    return figures


def missing(phase: Phase) -> str:
    count = len(phase.submissions)
    gaps = [
        f"{count - len(found)} {what}"
        for what, found in (
            ("acknowledgments", phase.acknowledged),
            ("notifications", phase.notified),
        )
        if len(found) < count
    ]
    if not gaps:
        return ""
    return (
        f"; {phase.name}: {', '.join(gaps)} not arrived within {WAIT_SECONDS:.0f} s"
        " of the last POST (counted at that time: a lower bound)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4.0, help="per second")
    parser.add_argument("--backlog", type=int, default=10_000)
    options = parser.parse_args()

    broker = redis.Redis.from_url(f"{REDIS}/{BROKER_DB}")
    cache = redis.Redis.from_url(f"{REDIS}/{REDIS_DB}")
    work = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    smtp = smtp_start(work / "arrivals.jsonl")
    env = service_environment(
        DATABASE,
        redis_db=REDIS_DB,
        broker_db=BROKER_DB,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        # The pages' assets come from the manifest that collectstatic writes.
        STATIC_ROOT=str(work / "static"),
    )
    try:
        broker.flushdb()
        cache.flushdb()
        database_prepare(env, DATABASE)
        manage(env, "load_demo_booking")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        os.environ.update(env)
        import django

        django.setup()
        token = api_token()
        figures, note = run(options, env, smtp, broker, token)
    finally:
        process_stop(smtp.process)
        if "django.db" in sys.modules:
            from django.db import connections

            connections.close_all()
        broker.flushdb()
        cache.flushdb()
        database_drop(DATABASE)
        shutil.rmtree(work, ignore_errors=True)
    report("speed_to_lead", figures, context=note)


def run(
    options: argparse.Namespace,
    env: dict[str, str],
    smtp: Smtp,
    broker: redis.Redis,
    token: str,
) -> tuple[list[Figure], str]:
    count, rate = options.submissions, options.rate
    load_before = os.getloadavg()[0]
    worker_log = RESULTS / "speed_to_lead-worker.log"
    with (
        running_gunicorn(env) as (port, gunicorn),
        running_worker(env, log=worker_log) as worker,
    ):
        load = Load(port=port, token=token, smtp_port=smtp.port)
        try:
            # Every gunicorn worker loads its definitions; the Celery worker is up
            # once these emails arrived.
            phase_run("warm-up", load, smtp, range(9_000_000, 9_000_000 + WARM_UP),
                      rate=rate)  # fmt: skip
            quiet = phase_run("quiet", load, smtp, range(count), rate=rate)

            started = time.monotonic()
            backlog_create(options.backlog)
            made_s = time.monotonic() - started
            beat = Beat(broker)
            phase_started = time.monotonic()
            beat.start()
            progress: dict[str, float] = {}

            def stop_the_sweeps() -> None:
                beat.stopped.set()
                beat.join()
                progress["sent"] = backlog_sent()
                progress["seconds"] = time.monotonic() - phase_started

            busy = phase_run(
                "backlog",
                load,
                smtp,
                range(count, 2 * count),
                rate=rate,
                during=stop_the_sweeps,
            )
            sent_after_wait = backlog_sent()
            wait_s = time.monotonic() - phase_started
        finally:
            load.close()
        gunicorn_mib = peak_rss_mib(gunicorn.pid)
        worker_mib = peak_rss_mib(worker.pid)

    figures = [*figures_of(quiet), *figures_of(busy)]
    figures += [
        Figure(
            "backlog: follow-ups sent by the end of the load",
            progress["sent"],
            "messages",
            baseline=float(options.backlog),
            baseline_name="backlog",
        ),
        Figure(
            "backlog: bulk follow-ups sent per second",
            sent_after_wait / wait_s,
            "msg/s",
        ),
        Figure("peak RSS, a gunicorn worker", gunicorn_mib, "MiB"),
        Figure("peak RSS, the Celery worker", worker_mib, "MiB"),
    ]
    note = (
        f"{count} submissions at {rate:g}/s per phase, gunicorn gthread 3 x 4, one"
        " Celery worker (concurrency 1, every queue), production settings; backlog"
        " phase:"
        f" {options.backlog} reminders due (made in {made_s:.1f} s), the due sweep"
        f" sent {beat.sweeps} times (whenever the broker held < {LOW_WATER} tasks);"
        f" {progress['sent']:.0f} sent by the end of the load"
        f" ({progress['seconds']:.0f} s),"
        f" {sent_after_wait} when its emails were in ({wait_s:.0f} s);"
        f" machine load average {load_before:.1f} at the start,"
        f" {os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)"
        + missing(quiet)
        + missing(busy)
    )
    return figures, note


if __name__ == "__main__":
    main()

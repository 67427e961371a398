"""PostgreSQL restarts while the web server and the worker run.

While it is away every request fails cleanly and at once: the API answers 503 with
Retry-After in its error shape, the form a page in the patient's language that
keeps what they typed, never a 500. Once it is back the same processes serve again:
what was refused is sent again and stored once, and the worker does its part. An
export that loses the database mid-stream ends as a failed download, never as a
shorter file that looks whole.

The real parts: a throwaway PostgreSQL cluster the test stops and starts on its own
port, gunicorn, a Celery worker on Redis, an SMTP server. The test process reads
and writes the same database through the ORM (tests/support/postgres_cluster.py).
"""

import html
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection

from clinics.models import StaffMember
from core.models import DeliveryStatus
from intake.models import Submission
from leads.api.export import CHUNK_ROWS
from leads.models import AssignmentRule, Lead, StaffNotification
from tests.faults.conftest import fault_report
from tests.support import services
from tests.support.answers import complete_answers
from tests.support.factories import LocationFactory, StaffMemberFactory
from tests.support.form_steps import STEPS, step_data
from tests.support.postgres_cluster import (
    DATABASE_NAME,
    PostgresCluster,
    orm_pointed_at,
    postgres_binaries,
    running_postgres_cluster,
)
from tests.support.smtp import SmtpServer
from tests.support.staff_api import api_key_for, leads_bulk_create, staff
from tests.support.waiting import wait_for_status
from tests.support.web_server import Browser, WebServer, running_web_server
from tests.support.worker import WorkerProcess, running_worker

pytestmark = [pytest.mark.integration]

# Its own queue: the session's worker (on the test database, not the throwaway
# cluster) must not take this test's tasks.
BROKER = "redis://127.0.0.1:6379/11"

COORDINATOR = "deniz@clinic.example"
OUTBOX_SWEEP = "leads.tasks.outbox_send_due_task"
# Well under gunicorn's timeout and the 5 s connect_timeout: a refused connection
# fails at once.
OUTAGE_ANSWER_SECONDS = 3
# Rows for the export: more than the ~4 MB the server's and the client's socket
# buffers hold together, so that the server is still reading the database when it
# stops, and the stream spans many chunks.
EXPORT_LEADS = 40_000
TEMPLATE_LEADS = 2_000


@dataclass(frozen=True)
class Clinic:
    staff_key: str


def _unavailable(message: str) -> None:
    if services.in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def cluster(django_db_blocker: Any) -> Iterator[PostgresCluster]:
    """The throwaway cluster, with this process's ORM pointed at it throughout."""
    binaries = postgres_binaries()
    if binaries is None:
        _unavailable("PostgreSQL is not installed under /usr/lib/postgresql/*/bin")
    assert binaries is not None
    if not services.is_up(services.REDIS):
        _unavailable(f"Redis does not answer at {services.REDIS.url_variable}")
    with (
        running_postgres_cluster(binaries) as cluster,
        django_db_blocker.unblock(),
        orm_pointed_at(cluster),
    ):
        yield cluster


@pytest.fixture(scope="module")
def clinic(cluster: PostgresCluster) -> Clinic:
    """The shipped questionnaire published, a coordinator whom new leads go to, and a
    clinic admin with an API key."""
    location = LocationFactory.create(slug="nisantasi", name="Nişantaşı Clinic")
    call_command("load_intake_definitions", verbosity=0)
    StaffMemberFactory.create(
        locations=[location], user__username="deniz", user__email=COORDINATOR
    )
    AssignmentRule.objects.create(name="Everyone here", location=location)
    admin = staff(StaffMember.Role.CLINIC_ADMIN, username="admin")
    return Clinic(staff_key=api_key_for(admin))


@pytest.fixture(scope="module")
def worker(
    cluster: PostgresCluster,
    clinic: Clinic,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: SmtpServer,
) -> Iterator[WorkerProcess]:
    with running_worker(
        database_name=DATABASE_NAME,
        log_path=tmp_path_factory.mktemp("db-fault-worker") / "worker.log",
        email_url=smtp_server.url,
        broker_url=BROKER,
        environment={"DATABASE_URL": cluster.url()},
    ) as process:
        yield process


@pytest.fixture(scope="module")
def web_server(
    cluster: PostgresCluster,
    clinic: Clinic,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WebServer]:
    with running_web_server(
        database_name=DATABASE_NAME,
        log_path=tmp_path_factory.mktemp("db-fault-web") / "gunicorn.log",
        environment={
            "DATABASE_URL": cluster.url(),
            "INTAKE_MIN_FILL_SECONDS": "0",
            "CELERY_BROKER_URL": BROKER,
        },
    ) as server:
        yield server


@pytest.fixture(autouse=True)
def _database_running(cluster: PostgresCluster) -> None:
    """Each test begins with PostgreSQL up, whatever an earlier failure left."""
    if not cluster.running:
        cluster.start()
        connection.close()


def _patient(number: int) -> dict[str, Any]:
    """Answers of a distinct person each time, so that no two become one lead."""
    return complete_answers(
        full_name=f"Patient {'ABCDEFGHIJ'[number]} Kaya",
        email=f"patient-{number}@example.com",
        phone=f"0532 {100 + number} 22 33",
    )


def _staff_get(server: WebServer, clinic: Clinic, path: str) -> requests.Response:
    return requests.get(
        server.url + path,
        headers={"Authorization": f"Token {clinic.staff_key}"},
        timeout=30,
    )


def _assert_refused_cleanly(response: requests.Response, started: float) -> None:
    """A 503 that says when to try again, in the error shape, at once."""
    assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
    assert response.status_code == 503, response.text[:2000]
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert set(body) == {"message", "code", "fields"}
    assert body["code"] == "service_unavailable"


def _kept_form(page: str) -> tuple[str, list[tuple[str, str]]]:
    """The address and the hidden fields of the 503 page's "Try again" form."""
    found = re.search(r'<form method="post" action="([^"]+)">', page)
    assert found, page[:3000]
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return html.unescape(found.group(1)), [
        (html.unescape(name), html.unescape(value)) for name, value in fields
    ]


def _wait_for_coordinator_emails(smtp: SmtpServer, count: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        sent = sum(1 for message in smtp.messages() if message["To"] == COORDINATOR)
        if sent >= count:
            return sent
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} emails reached the coordinator")


def test_requests_during_a_database_restart_fail_cleanly_and_then_all_works_again(
    cluster: PostgresCluster,
    clinic: Clinic,
    worker: WorkerProcess,
    web_server: WebServer,
    smtp_server: SmtpServer,
) -> None:
    # Given a questionnaire sent and its lead announced to the coordinator
    smtp_server.clear()
    sent = Browser(web_server).post_json(
        "/api/v1/submissions", {"answers": _patient(0)}
    )
    assert sent.status_code == 201, sent.text[:2000]
    _wait_for_coordinator_emails(smtp_server, 1)
    # and a patient who has begun the form, in Turkish
    patient = Browser(web_server)
    assert patient.get("/tr/consultation/").status_code == 200
    assert (
        patient.post("/tr/consultation/", {"consent_health": "on"}).status_code == 302
    )
    worker_pid = worker.stats()["pid"]

    # When PostgreSQL stops
    cluster.stop()
    connection.close()  # this process's own connection died with it
    outage_answers: list[int] = []

    # Then questionnaires sent to the API are refused, each with a time to retry
    refused = [_patient(number) for number in (1, 2, 3)]
    for answers in refused:
        started = time.monotonic()
        response = Browser(web_server).post_json(
            "/api/v1/submissions", {"answers": answers}
        )
        _assert_refused_cleanly(response, started)
        outage_answers.append(response.status_code)
    # and so is the staff queue
    started = time.monotonic()
    queue = _staff_get(web_server, clinic, "/api/v1/leads")
    _assert_refused_cleanly(queue, started)
    outage_answers.append(queue.status_code)
    # and the form's step comes back in Turkish, with every answer to send again
    first_step = step_data(1, _patient(4))
    started = time.monotonic()
    page = patient.post("/tr/consultation/step/1/", first_step)
    assert time.monotonic() - started < OUTAGE_ANSWER_SECONDS
    outage_answers.append(page.status_code)
    assert page.status_code == 503, page.text[:2000]
    assert "Retry-After" in page.headers
    assert '<html lang="tr">' in page.text
    assert "Traceback" not in page.text
    action, kept = _kept_form(page.text)
    assert action == "/tr/consultation/step/1/"
    assert kept[0][0] == "csrfmiddlewaretoken"
    assert sorted(kept[1:]) == sorted(
        (name, str(value))
        for name, values in first_step.items()
        for value in (values if isinstance(values, list) else [values])
    )
    # and readiness names the database
    ready = requests.get(web_server.url + "/readyz", timeout=30)
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False
    # and a sweep the worker runs meanwhile fails without ending it.
    sweep = worker.send_task(OUTBOX_SWEEP)
    worker.wait_for_log(f"[{sweep}] raised", timeout=15)
    assert not worker.exited()

    # When PostgreSQL is back, with the same web and worker processes
    cluster.start()
    back_at = time.monotonic()

    # Then what was refused is sent again and taken at the first try
    retried = Browser(web_server).post_json(
        "/api/v1/submissions", {"answers": refused[0]}
    )
    recovered_in = time.monotonic() - back_at
    assert retried.status_code == 201, retried.text[:2000]
    for answers in refused[1:]:
        again = Browser(web_server).post_json(
            "/api/v1/submissions", {"answers": answers}
        )
        assert again.status_code == 201, again.text[:2000]
    assert _staff_get(web_server, clinic, "/api/v1/leads").status_code == 200
    # and the kept page, sent again as it is, moves the patient on to the end
    moved_on = patient.session.post(
        web_server.url + action, data=kept, allow_redirects=False, timeout=30
    )
    assert moved_on.status_code == 302, moved_on.text[:2000]
    assert moved_on.headers["Location"] == "/tr/consultation/step/2/"
    patient.get("/tr/consultation/step/2/")
    for number in range(2, len(STEPS) + 1):
        step = patient.post(
            f"/tr/consultation/step/{number}/", step_data(number, _patient(4))
        )
        assert step.status_code == 302, step.text[:2000]
    assert "/consultation/done/" in step.headers["Location"]
    # and each of the five people is stored once, as one lead
    emails = [answers["email"] for answers in [_patient(0), *refused, _patient(4)]]
    stored = {email: Submission.objects.filter(email=email).count() for email in emails}
    lost = sum(1 for count in stored.values() if count == 0)
    duplicated = sum(count - 1 for count in stored.values() if count > 1)
    assert (lost, duplicated) == (0, 0), stored
    assert Lead.objects.filter(email__in=emails).count() == len(emails)
    # and the worker that was running all along tells the coordinator of each, once
    assert _wait_for_coordinator_emails(smtp_server, len(emails)) == len(emails)
    for notification in StaffNotification.objects.all():
        wait_for_status(notification, DeliveryStatus.SENT)
    sweep = worker.send_task(OUTBOX_SWEEP)
    worker.wait_for_log(f"[{sweep}] succeeded", timeout=15)
    assert worker.stats()["pid"] == worker_pid
    # and nothing anywhere answered 500.
    assert all(status == 503 for status in outage_answers)
    assert "Internal Server Error" not in web_server.log()
    assert "Unrecoverable error" not in worker.log()

    fault_report(
        "database-restart",
        requests_during_outage=f"{len(outage_answers)} (all 503)",
        lost=lost,
        duplicated=duplicated,
        recovered_in=f"{recovered_in:.1f} s",
    )


def _read_to_the_end(
    pieces: Iterator[bytes],
) -> tuple[bytes, requests.exceptions.ChunkedEncodingError | None]:
    """What is left of a streamed body, and the error that ended it, if any."""
    received = b""
    try:
        for piece in pieces:
            received += piece
    except requests.exceptions.ChunkedEncodingError as error:
        return received, error
    return received, None


def _leads_in_bulk(count: int) -> None:
    """`count` leads: a varied template set, then copies of it made by PostgreSQL
    (a second, where the ORM would take a minute)."""
    owners = list(StaffMember.objects.values_list("user", flat=True))
    location = LocationFactory.create(slug="kadikoy", name="Kadıköy")
    leads_bulk_create(
        TEMPLATE_LEADS,
        locations=[location],
        owners=list(User.objects.filter(pk__in=owners)),
    )
    columns = [
        field.column
        for field in Lead._meta.concrete_fields
        if not field.primary_key and field.name != "code"
    ]
    listed = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{Lead._meta.db_table}" ("code", {listed}) '  # noqa: S608
            f"SELECT gen_random_uuid(), {listed} FROM "
            f'"{Lead._meta.db_table}", generate_series(1, %s) '
            "WHERE location_id = %s",
            [count // TEMPLATE_LEADS - 1, location.pk],
        )


def test_an_export_that_loses_the_database_midway_ends_as_a_failed_download(
    cluster: PostgresCluster,
    clinic: Clinic,
    web_server: WebServer,
) -> None:
    # Given enough leads for the export to span many chunks
    _leads_in_bulk(EXPORT_LEADS)
    total = Lead.objects.count()
    assert total >= EXPORT_LEADS

    # When an export has sent its first chunk and PostgreSQL stops
    export = requests.get(
        web_server.url + "/api/v1/leads/export.csv",
        headers={"Authorization": f"Token {clinic.staff_key}"},
        stream=True,
        timeout=30,
    )
    assert export.status_code == 200
    pieces = export.iter_content(64 * 1024)
    received = b""
    while received.count(b"\n") <= CHUNK_ROWS:
        received += next(pieces)
    cluster.stop()
    connection.close()

    # Then the client sees a download cut short, not a shorter whole file
    rest, cut = _read_to_the_end(pieces)
    received += rest
    assert isinstance(cut, requests.exceptions.ChunkedEncodingError), cut
    assert "IncompleteRead" in str(cut) or "ended prematurely" in str(cut), cut
    rows_received = received.count(b"\n") - 1
    assert CHUNK_ROWS <= rows_received < total

    # When PostgreSQL is back, the same server exports everything.
    cluster.start()
    complete = _staff_get(web_server, clinic, "/api/v1/leads/export.csv")
    assert complete.status_code == 200
    assert complete.text.count("\n") == total + 1
    assert "ExportCutShort" in web_server.log()

    fault_report(
        "database-lost-mid-export",
        rows_sent=f"{rows_received} of {total}",
        cut_seen_by_client="yes (incomplete chunked body)",
        lost=0,
        duplicated=0,
    )

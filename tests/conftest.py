import os
import shutil
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
from celery import Task
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from clinics.models import Location
from followups.defaults import defaults_install
from followups.models import MessageTemplate, Sequence, Step
from intake.models import QuestionnaireVersion
from tests.support import services
from tests.support.factories import LocationFactory, StaffUserFactory, UserFactory
from tests.support.smtp import SmtpServer, running_smtp_server
from tests.support.worker import WorkerProcess, running_worker

# A shared two-core machine makes single examples slow now and then: timing is for
# bench/, not for property tests.
hypothesis.settings.register_profile("project", deadline=None)
hypothesis.settings.load_profile("project")

# Playwright's sync API runs an event loop in the test thread; Django would then refuse
# ORM calls made by the test itself between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _unavailable(message: str) -> None:
    if services.in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


def require_service(service: services.Service) -> None:
    """Skip a test whose service is down, except under CI=true, where it fails."""
    if services.is_up(service):
        return
    _unavailable(f"{service.name} does not answer at {service.url_variable}")


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any],
) -> dict[str, Any]:
    """Debian's Chromium: Playwright cannot download its own browser here."""
    if shutil.which(CHROMIUM) is None:
        _unavailable(
            f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """A real SMTP server process; what it receives lands in a Maildir."""
    # A folder that does not exist yet: Maildir makes its cur/new/tmp only then.
    with running_smtp_server(tmp_path_factory.mktemp("smtp") / "maildir") as server:
        yield server


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    smtp_server: SmtpServer,
) -> Iterator[WorkerProcess]:
    """A real worker process on Redis, reading the test database, mailing over SMTP."""
    require_service(services.REDIS)
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with running_worker(
        database_name=connection.settings_dict["NAME"],
        log_path=log_path,
        email_url=smtp_server.url,
    ) as worker:
        yield worker


@pytest.fixture
def staff_user(db: None) -> object:
    return StaffUserFactory.create()


@pytest.fixture
def user(db: None) -> object:
    return UserFactory.create()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def location(db: None) -> Location:
    return LocationFactory.create(slug="nisantasi", name="Nişantaşı Clinic")


@pytest.fixture
def published(db: None, location: Location) -> QuestionnaireVersion:
    """The shipped questionnaire and rules, published as `make run` does."""
    call_command("load_intake_definitions", verbosity=0)
    return QuestionnaireVersion.objects.get(status="published")


@pytest.fixture
def keep_test_connection() -> Iterator[None]:
    """For in-process WSGI calls (schemathesis): Django would close the test
    transaction's connection after each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings: Any) -> Iterator[None]:
    """Every test sends questionnaires from a fresh network address, as fast as it
    likes: the limits' own tests set them."""
    settings.INTAKE_MIN_FILL_SECONDS = 0
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _followup_defaults(request: pytest.FixtureRequest) -> None:
    """The clinic's default follow-ups, as migration 0002 writes them, in every test
    with a database: a transactional test's flush removes them for the next one."""
    marker = request.node.get_closest_marker("django_db")
    names = request.fixturenames
    if "transactional_db" in names or (marker and marker.kwargs.get("transaction")):
        request.getfixturevalue("transactional_db")
    elif "db" in names or marker:
        request.getfixturevalue("db")
    else:
        return
    defaults_install(MessageTemplate, Sequence, Step)


@pytest.fixture(autouse=True)
def _no_broker_in_unit_races(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A test that commits from threads (a race on the database) but runs no
    worker of its own hands Celery nothing: the session's worker, started by an
    earlier integration test, would otherwise read the rows it commits while the
    test's teardown truncates them (a deadlock, which fails the teardown)."""
    marker = request.node.get_closest_marker("django_db")
    committing = marker is not None and marker.kwargs.get("transaction")
    if committing and request.node.get_closest_marker("integration") is None:
        monkeypatch.setattr(Task, "apply_async", lambda *args, **kwargs: None)

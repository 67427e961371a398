from collections.abc import Iterator

import pytest
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import StaffUserFactory, UserFactory
from tests.support import services
from tests.support.worker import running_worker


def require_service(service: services.Service) -> None:
    """Skip a test whose service is down, except under CI=true, where it fails."""
    if services.is_up(service):
        return
    host, port = service.address
    message = f"{service.name} is not reachable at {host}:{port}"
    if services.in_ci():
        pytest.fail(f"{message} (CI=true: a missing service is a failure)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def celery_worker(
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A real worker process on Redis reading the test database; yields its name."""
    require_service(services.REDIS)
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    with running_worker(
        database_name=connection.settings_dict["NAME"], log_path=log_path
    ) as node_name:
        yield node_name


@pytest.fixture
def staff_user(db: None) -> object:
    return StaffUserFactory.create()


@pytest.fixture
def user(db: None) -> object:
    return UserFactory.create()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()

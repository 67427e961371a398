"""A database that cannot be reached answers 503 and "try again", never a 500.

The database is made unreachable by a session store and views that raise what
Django raises when PostgreSQL refuses the connection; tests/faults/ stops a real
server.
"""

import re
import sqlite3
from typing import Any

import psycopg
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.test import Client

from core.outages import RETRY_AFTER_SECONDS, database_unavailable
from intake.models import QuestionnaireVersion
from tests.support.answers import complete_answers
from tests.support.form_steps import start, step_data

pytestmark = pytest.mark.django_db


def _wrapped(cause: Exception, kind: type[Exception] = OperationalError) -> Any:
    """What Django raises for a driver's `cause` (django.db.utils wraps it so)."""
    error = kind(str(cause))
    error.__cause__ = cause
    return error


def _sqlite_error(name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(name)
    error.sqlite_errorname = name
    return error


def _refused(*args: Any, **kwargs: Any) -> None:
    raise _wrapped(psycopg.OperationalError("connection failed: Connection refused"))


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (_wrapped(psycopg.OperationalError("connection refused")), True),
        (_wrapped(psycopg.errors.AdminShutdown("terminating connection")), True),
        (_wrapped(psycopg.errors.CannotConnectNow("starting up")), True),
        (_wrapped(psycopg.errors.TooManyConnections("too many")), True),
        (_wrapped(psycopg.InterfaceError("closed"), InterfaceError), True),
        (_wrapped(_sqlite_error("SQLITE_BUSY")), True),
        (_wrapped(psycopg.errors.QueryCanceled("statement timeout")), False),
        (_wrapped(psycopg.errors.DeadlockDetected("deadlock")), False),
        (
            _wrapped(psycopg.errors.UndefinedColumn("no column"), ProgrammingError),
            False,
        ),
        (_wrapped(_sqlite_error("SQLITE_ERROR")), False),
        (ValueError("not the database"), False),
    ],
)
def test_only_a_database_out_of_reach_counts_as_an_outage(
    error: BaseException, unavailable: bool
) -> None:
    assert database_unavailable(error) is unavailable


def test_the_api_answers_503_in_its_error_shape_with_retry_after(
    client: Client, published: QuestionnaireVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("intake.api.views.submission_create", _refused)

    response = client.post(
        "/api/v1/submissions",
        {"answers": complete_answers()},
        content_type="application/json",
    )

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {
        "message": "The service is unavailable for a moment. Please try again.",
        "code": "service_unavailable",
        "fields": {},
    }


def test_a_step_sent_while_the_database_is_away_comes_back_to_send_again(
    client: Client, published: QuestionnaireVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a patient on the first step, in Turkish
    start(client, "tr")
    answers = complete_answers(full_name="Ayşe Yılmaz")
    posted = {**step_data(1, answers), "password": "never-shown"}
    # When the database goes away as the step is sent
    monkeypatch.setattr(SessionStore, "load", _refused)
    response = client.post("/tr/consultation/step/1/", posted)

    # Then a page in Turkish says to try again, holding every answer and a token
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "no-store" in response["Cache-Control"]
    assert '<html lang="tr">' in page
    kept = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    assert kept[0][0] == "csrfmiddlewaretoken"
    assert sorted(kept[1:]) == sorted(
        (name, str(value))
        for name, values in step_data(1, answers).items()
        for value in (values if isinstance(values, list) else [values])
    )
    assert 'action="/tr/consultation/step/1/"' in page
    assert "never-shown" not in page
    assert "Traceback" not in page


def test_a_page_whose_middleware_meets_the_database_away_answers_503(
    client: Client, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The staff pages' idle sign-out reads the session before any view runs.
    client.force_login(staff_user)
    client.raise_request_exception = False
    monkeypatch.setattr(SessionStore, "load", _refused)

    response = client.get("/staff/?status=new")

    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert 'href="/staff/?status=new"' in response.content.decode()


def test_a_post_refused_before_its_csrf_check_is_not_written_back(
    client: Client, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(staff_user)
    client.raise_request_exception = False
    monkeypatch.setattr(SessionStore, "load", _refused)

    response = client.post("/staff/bulk", {"note": "from another site"})

    assert response.status_code == 503
    assert "from another site" not in response.content.decode()
    assert 'type="hidden"' not in response.content.decode()


def test_any_other_database_error_is_still_a_500(
    client: Client, staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> None:
        raise _wrapped(psycopg.errors.UndefinedColumn("no column"), ProgrammingError)

    monkeypatch.setattr("core.selectors.worker_check_get", broken)
    client.raise_request_exception = False
    client.force_login(staff_user)

    response = client.get(
        "/api/v1/ops/worker-checks/00000000-0000-0000-0000-000000000000"
    )

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"

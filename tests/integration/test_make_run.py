"""`make run`'s zero-setup stack: SQLite, filesystem broker, web + worker + beat."""

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
# What the test process may have in its environment; `make run` has none of it.
TEST_SETTINGS_VARIABLES = {
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "EMAIL_URL",
    "LOG_FORMAT", "DJANGO_ALLOW_ASYNC_UNSAFE",
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _signed_in_page(base: str, username: str, password: str, path: str) -> str:
    """`path` as `username` sees it after signing in with the staff form."""
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    sign_in = f"{base}/staff/sign-in/?next={path}"
    with opener.open(sign_in, timeout=10) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        sign_in, data=body, headers={"Referer": sign_in}
    )
    with opener.open(request, timeout=10) as response:  # follows to `path`
        assert response.status == 200
        assert response.url.endswith(path), response.url
        return str(response.read().decode())


def _wait_until(
    predicate: Callable[[], bool], timeout: float, what: str, log: Path
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s; log:\n{log.read_text()[-4000:]}")


@contextmanager
def _running_stack(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """Run `manage.py runstack` until it is ready; stop it with Ctrl-C (SIGINT)."""
    with log.open("ab") as out:
        stack = subprocess.Popen(
            [sys.executable, "manage.py", "runstack", "--port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        # runstack prints its URLs once /readyz has answered 200.
        _wait_until(lambda: "Ready. Open:" in log.read_text(), 120, "not ready", log)
        yield
    finally:
        stack.send_signal(signal.SIGINT)
        exit_code = stack.wait(timeout=30)
    assert exit_code == 0
    assert "Stopping web, worker and beat" in log.read_text()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_zero_setup_stack_serves_pages_and_runs_web_tasks_in_its_worker(
    tmp_path: Path,
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in TEST_SETTINGS_VARIABLES},
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "VAR_DIR": str(tmp_path / "var"),
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"

    with _running_stack(env, port, first_log):
        assert _get(f"{base}/readyz")[0] == 200
        status, page = _get(f"{base}/en/")
        assert status == 200
        assert "Redness and spider veins" in page.decode()

        token = subprocess.run(
            [sys.executable, "manage.py", "api_token_create", "admin"],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        auth = {"Authorization": f"Token {token}"}
        request = urllib.request.Request(  # noqa: S310
            f"{base}/api/v1/ops/worker-checks", method="POST", headers=auth
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 202
            check_id = json.load(response)["id"]

        def completed() -> bool:
            _, body = _get(f"{base}/api/v1/ops/worker-checks/{check_id}", auth)
            return json.loads(body)["completed_at"] is not None

        _wait_until(completed, 60, "the worker did not run the web's task", first_log)

        # The coordinator's queue page, whose most-urgent-first read SQLite
        # cannot run as one UNION (it answered 500 under make run once).
        queue = _signed_in_page(base, "coordinator", "demo-coordinator", "/staff/")
        assert 'class="queue' in queue, queue[:2000]

    # Running it a second time on the same data is safe and serves the same logins.
    with _running_stack(env, port, second_log):
        assert _get(f"{base}/readyz")[0] == 200
    assert "admin        demo-admin" in second_log.read_text()

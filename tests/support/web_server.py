"""A real web server process (gunicorn, the image's server) for integration tests,
and a client that talks to it as a browser and an API client would."""

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.processes import free_port, process_stop
from tests.support.worker import database_url

READY_TIMEOUT_SECONDS = 30
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class WebServer:
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text()


class Browser:
    """One visitor's cookies and CSRF token; redirects are returned, not followed."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.session = requests.Session()
        self._csrf_token: str | None = None

    def get(self, path: str) -> requests.Response:
        response = self.session.get(
            self.server.url + path,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        if found:
            self._csrf_token = found.group(1)
        return response

    def post(self, path: str, data: Mapping[str, Any]) -> requests.Response:
        """Post a form, with the CSRF token of a page this visitor opened."""
        assert self._csrf_token is not None, "open a page with a form first"
        return self.session.post(
            self.server.url + path,
            data={**data, "csrfmiddlewaretoken": self._csrf_token},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def post_json(self, path: str, payload: Any) -> requests.Response:
        """Post JSON as an API client does: no cookies, no CSRF token."""
        return requests.post(
            self.server.url + path,
            json=payload,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )


@contextmanager
def running_web_server(
    *,
    database_name: str,
    log_path: Path,
    environment: Mapping[str, str],
    arguments: Sequence[str] = ("--workers", "1", "--timeout", "60"),
) -> Iterator[WebServer]:
    """Start gunicorn with the test settings against `database_name`, and
    `environment` on top (e.g. the broker and cache URLs), with `arguments` (the
    image's own: `-c config/gunicorn.py`); yield it once /healthz answers."""
    server = WebServer(free_port(), log_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(database_name),
        **environment,
    }
    command = [
        sys.executable, "-m", "gunicorn", "config.wsgi:application",
        "--bind", f"127.0.0.1:{server.port}", *arguments, "--error-logfile", "-",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                requests.get(f"{server.url}/healthz", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the web server did not start:\n{server.log()[-3000:]}"
                    ) from None
                time.sleep(0.1)
        yield server
    finally:
        process_stop(process)

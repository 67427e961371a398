"""A real CalDAV server process (Radicale) with its collections under a temp folder,
which a test can stop and start again on the same port and folder."""

import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from caldav.calendarobjectresource import Event
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from tests.support.processes import free_port, process_stop

READY_TIMEOUT_SECONDS = 20
USER = "dr-demir"
PASSWORD = "any-password-radicale-has-no-auth"


@dataclass
class RadicaleServer:
    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calendar_url(self, name: str = "work") -> str:
        return f"{self.base_url}/{USER}/{name}/"

    @property
    def log_path(self) -> Path:
        return self.folder / "radicale.log"

    def write_config(self) -> Path:
        config = self.folder / "config"
        config.write_text(
            "[server]\n"
            f"hosts = 127.0.0.1:{self.port}\n"
            "[auth]\n"
            "type = none\n"
            "[rights]\n"
            "type = owner_only\n"
            "[storage]\n"
            f"filesystem_folder = {self.folder / 'collections'}\n"
            "[logging]\n"
            "level = warning\n"
        )
        return config

    def start(self) -> None:
        """Start the server (again: same port, same collections) and wait until it
        answers HTTP."""
        assert self.process is None, "already running"
        config = self.write_config()
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                output = self.log_path.read_text()
                raise RuntimeError(f"Radicale did not start:\n{output}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            process_stop(self.process)
            self.process = None

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.base_url}/.web/", timeout=1):  # noqa: S310
                return True
        except urllib.error.HTTPError:
            return True  # an HTTP answer, whatever it is
        except OSError:
            return False

    def client(self) -> DAVClient:
        return DAVClient(
            url=self.base_url,
            username=USER,
            password=PASSWORD,
            timeout=5,
            enable_rfc6764=False,
        )

    def make_calendar(self, name: str = "work") -> Calendar:
        """A calendar collection of USER's, as a calendar app would make it."""
        calendar: Calendar = (
            self.client().principal().make_calendar(name=name, cal_id=name)
        )
        return calendar

    def calendar(self, name: str = "work") -> Calendar:
        """Another client's view of the calendar (not the clinic's code)."""
        return Calendar(client=self.client(), url=self.calendar_url(name))

    def events(self, name: str = "work") -> list[Event]:
        """Every event in the calendar, as another client reads it back."""
        found = self.calendar(name).get_events()
        assert isinstance(found, list)
        return found

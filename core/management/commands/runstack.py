"""Run the whole service in the foreground: web server, Celery worker and beat.

This is `make run`: it migrates, loads the demo clinic, starts the three processes and
stops all of them on Ctrl-C (or SIGTERM, or the terminal closing), or as soon as any
one of them exits.
"""

import contextlib
import os
import signal
import subprocess  # nosec B404 # only to start this project's own processes
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

READY_TIMEOUT_SECONDS = 90
# How long Celery may take to finish the task in hand before it is killed.
STOP_TIMEOUT_SECONDS = 15
SWEEP_TIMEOUT_SECONDS = 3

Processes = dict[str, subprocess.Popen[bytes]]


def child_environment(base_url: str) -> dict[str, str]:
    """The children's environment: links in emails follow the port, unless the
    developer set SITE_URL."""
    return {"SITE_URL": base_url, **os.environ}


class Command(BaseCommand):
    help = "Migrate, load the demo clinic, and run web + worker + beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        default_port = int(os.environ.get("PORT", "8000"))
        parser.add_argument("--port", type=int, default=default_port)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-demo", action="store_true", help="Skip the demo.")

    def handle(self, *args: Any, **options: Any) -> None:
        self._prepare_folders()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        call_command("load_intake_definitions", stdout=self.stdout)
        if not options["no_demo"]:
            call_command("load_demo_clinic", stdout=self.stdout)
            call_command("load_demo_booking", stdout=self.stdout)
            call_command("load_demo_submissions", stdout=self.stdout)

        base_url = f"http://{options['host']}:{options['port']}"
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        # Before any child exists, so no signal can arrive while one is unwatched.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)

        processes: Processes = {}
        exit_code = 0
        try:
            child_env = child_environment(base_url)
            for name, command in self._commands(options["host"], options["port"]):
                # Each child gets its own session: Ctrl-C reaches only this
                # supervisor, which then stops the children instead of racing them.
                # The argv is built here from sys.executable and fixed arguments,
                # with no shell.
                processes[name] = subprocess.Popen(  # noqa: S603  # nosec B603
                    command,
                    cwd=settings.BASE_DIR,
                    env=child_env,
                    start_new_session=True,
                )
            if self._wait_ready(base_url, processes, lambda: stopping):
                self._print_urls(base_url)
            while not stopping:
                exited = [n for n, p in processes.items() if p.poll() is not None]
                if exited:
                    code = processes[exited[0]].returncode
                    self.stderr.write(f"{exited[0]} exited with code {code}.")
                    exit_code = code or 1
                    break
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping web, worker and beat…")
            self._stop_all(processes)
        if exit_code:
            sys.exit(exit_code)

    def _commands(self, host: str, port: int) -> list[tuple[str, list[str]]]:
        python, manage = sys.executable, str(Path(settings.BASE_DIR) / "manage.py")
        celery = [python, "-m", "celery", "-A", "config"]
        return [
            ("web", [python, manage, "runserver", f"{host}:{port}"]),
            ("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"]),
            ("beat", [*celery, "beat", "--loglevel", "INFO",
                      "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]),
        ]  # fmt: skip

    def _prepare_folders(self) -> None:
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder",
                    "control_folder"):  # fmt: skip
            if key in options:
                Path(str(options[key])).mkdir(parents=True, exist_ok=True)

    def _wait_ready(
        self, base_url: str, processes: Processes, stopping: Callable[[], bool]
    ) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        url = f"{base_url}/readyz"  # http on loopback, built here
        while time.monotonic() < deadline and not stopping():
            if any(process.poll() is not None for process in processes.values()):
                return False
            try:
                # http:// on loopback, built above: no file: or other scheme.
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310  # nosec B310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        if not stopping():
            self.stderr.write(f"{url} did not answer 200 in {READY_TIMEOUT_SECONDS} s.")
        return False

    def _print_urls(self, base_url: str) -> None:
        lines = [
            "",
            "Ready. Open:",
            f"  {base_url}/en/            start page (English; /tr/ for Turkish)",
            f"  {base_url}/admin/         staff sign-in (logins above)",
            f"  {base_url}/staff/status/  status; send a test task to the worker",
            f"  {base_url}/api/docs/      API documentation",
            f"  {base_url}/readyz         readiness (JSON)",
            "Press Ctrl-C to stop everything.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))

    def _stop_all(self, processes: Processes) -> None:
        """Ask each main process to stop, then sweep its group, killing what stays.

        Celery finishes the task in hand on SIGTERM. The sweep catches children a main
        process leaves behind, such as the process runserver's autoreloader starts.
        """
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            _signal_group(process.pid, signal.SIGTERM)
        sweep_deadline = time.monotonic() + SWEEP_TIMEOUT_SECONDS
        for process in processes.values():
            while _group_alive(process.pid) and time.monotonic() < sweep_deadline:
                time.sleep(0.1)
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True

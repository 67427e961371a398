"""Run the whole service in the foreground: web server, Celery worker and beat.

This is `make run`: it migrates, loads the demo clinic, starts the three processes and
stops all of them on Ctrl-C, or as soon as any one of them exits.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

READY_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = "Migrate, load the demo clinic, and run web + worker + beat until Ctrl-C."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", "8000"))
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--no-demo", action="store_true", help="Skip the demo clinic."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self._prepare_folders()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not options["no_demo"]:
            call_command("load_demo_clinic", stdout=self.stdout)

        host, port = options["host"], options["port"]
        base_url = f"http://{host}:{port}"
        python = sys.executable
        base_dir = Path(settings.BASE_DIR)
        manage = str(base_dir / "manage.py")
        commands = {
            "web": [python, manage, "runserver", f"{host}:{port}"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        processes = {
            # Each child gets its own session: Ctrl-C reaches only this supervisor,
            # which then stops the children in order instead of racing them.
            name: subprocess.Popen(command, cwd=base_dir, start_new_session=True)  # noqa: S603
            for name, command in commands.items()
        }
        stopping = False

        def stop(signum: int, _frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)

        exit_code = 0
        try:
            if self._wait_ready(base_url, processes, lambda: stopping):
                self._print_urls(base_url)
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with code {process.returncode}."
                        )
                        exit_code = process.returncode or 1
                        stopping = True
                        break
                time.sleep(0.5)
        finally:
            self.stdout.write("Stopping web, worker and beat…")
            self._stop_all(processes)
        if exit_code:
            sys.exit(exit_code)

    def _prepare_folders(self) -> None:
        Path(settings.VAR_DIR).mkdir(exist_ok=True)
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in (
            "data_folder_in",
            "data_folder_out",
            "processed_folder",
            "control_folder",
        ):
            if key in options:
                Path(str(options[key])).mkdir(parents=True, exist_ok=True)

    def _wait_ready(
        self,
        base_url: str,
        processes: dict[str, subprocess.Popen[bytes]],
        stopping: Any,
    ) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline and not stopping():
            if any(process.poll() is not None for process in processes.values()):
                return False
            try:
                url = f"{base_url}/readyz"  # http on loopback, built here
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.stderr.write(
            f"{base_url}/readyz did not answer 200 within {READY_TIMEOUT_SECONDS} s."
        )
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

    def _stop_all(self, processes: dict[str, subprocess.Popen[bytes]]) -> None:
        """Ask each main process to stop (Celery ends its tasks), then sweep its group.

        The sweep catches children a main process leaves behind, such as the process
        that runserver's autoreloader starts.
        """
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
                self._signal_group(process, signal.SIGTERM)
            except subprocess.TimeoutExpired:
                self._signal_group(process, signal.SIGKILL)
                process.wait()

    @staticmethod
    def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)

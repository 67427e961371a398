"""The shipped reverse proxy (config/nginx/clinic.conf.template) as a real nginx
process for tests, and a header-echoing upstream to see what reaches the app."""

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from tests.support.processes import free_port, process_stop

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "config/nginx/clinic.conf.template"
READY_TIMEOUT_SECONDS = 15


@dataclass(frozen=True)
class Proxy:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def nginx_available() -> bool:
    return shutil.which("nginx") is not None or Path("/usr/sbin/nginx").exists()


@contextmanager
def running_proxy(*, upstream: str, folder: Path) -> Iterator[Proxy]:
    """nginx with the shipped server block, in front of `upstream` (host:port),
    everything of its own under `folder`; yield it once it answers."""
    proxy = Proxy(free_port())
    server_block = (
        TEMPLATE.read_text()
        .replace("${CLINIC_UPSTREAM}", upstream)
        .replace("${CLINIC_LISTEN}", f"127.0.0.1:{proxy.port}")
    )
    (folder / "clinic.conf").write_text(server_block)
    (folder / "nginx.conf").write_text(
        f"""
user root;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/clinic.conf;
}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [
            nginx,
            "-c",
            str(folder / "nginx.conf"),
            "-p",
            str(folder),
            "-g",
            "daemon off;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                requests.get(proxy.url + "/healthz", timeout=1)
                break
            except requests.RequestException:
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (
                        (folder / "error.log").read_text()
                        if (folder / "error.log").exists()
                        else ""
                    )
                    raise RuntimeError(f"nginx did not start:\n{log[-2000:]}") from None
                time.sleep(0.1)
        yield proxy
    finally:
        process_stop(process)


class _Echo(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # http.server's name
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def echo_upstream() -> Iterator[str]:
    """An upstream that answers every GET with the headers it received, as JSON;
    yields its host:port."""
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()

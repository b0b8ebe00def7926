"""Fixtures for the jobs tests: a loopback image server, stores, and job helpers."""

from __future__ import annotations

import io
import os
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from service.config import Settings
from tests.conftest import make_app
from tests.jobs.served import Server
from tests.mariadb import free_port

PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_IMAGE = re.compile(r"^/img/(\d+)x(\d+)\.(jpg|png|webp|gif)$")
_REDIRECT = re.compile(r"^/redirect/(\d+)(/.*)$")
_STATUS = re.compile(r"^/status/(\d{3})$")


def image_bytes(width: int, height: int, ext: str, shade: int = 0) -> bytes:
    out = io.BytesIO()
    mode = "P" if ext == "gif" else "RGB"
    Image.new(mode, (width, height), shade if mode == "P" else (shade, 90, 160)).save(
        out, PIL_FORMATS[ext]
    )
    return out.getvalue()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 drops bursts of connects (1 s SYN retries)


class ImageServer:
    """Serves generated images on 127.0.0.1 and records what was asked for.

    /img/WxH.EXT (jpg png webp gif), /status/CODE, /text (not an image),
    /redirect/N/PATH (N hops, then PATH), /big (1 MB of bytes), /file/NAME (bytes handed to
    `serve_bytes`), /stream/N (N MB with no Content-Length, ended by closing the connection);
    `?slow=S` sleeps S seconds.
    """

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.files: dict[str, bytes] = {}
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                path, _, query = self.path.partition("?")
                with server._lock:
                    server.paths.append(path)
                    server.active += 1
                    server.max_active = max(server.max_active, server.active)
                try:
                    if query.startswith("slow="):
                        time.sleep(float(query[5:]))
                    server.respond(self, path)
                finally:
                    with server._lock:
                        server.active -= 1

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve_bytes(self, name: str, data: bytes) -> str:
        """Serve `data` as an image/jpeg at /file/NAME; returns its URL."""
        self.files[name] = data
        return self.url(f"/file/{name}")

    def respond(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        status, body, ctype, headers = 404, b"not found", "text/plain", {}
        if match := _IMAGE.match(path):
            width, height, ext = int(match[1]), int(match[2]), match[3]
            status, body, ctype = 200, image_bytes(width, height, ext), CONTENT_TYPES[ext]
        elif match := _STATUS.match(path):
            status, body = int(match[1]), b"status"
        elif path == "/text":
            status, body, ctype = 200, b"hello, this is not an image", "image/jpeg"
        elif path.startswith("/stream/"):
            handler.send_response(200)
            handler.send_header("Content-Type", "image/jpeg")
            handler.send_header("Connection", "close")
            handler.end_headers()
            block = b"\xff" * 65536
            try:
                for _ in range(int(path[8:]) * 16):
                    handler.wfile.write(block)
            except OSError:  # the client stopped reading (its size cap): expected
                pass
            handler.close_connection = True
            return
        elif path.startswith("/file/") and path[6:] in self.files:
            status, body, ctype = 200, self.files[path[6:]], "image/jpeg"
        elif path == "/big":
            status, body, ctype = 200, b"\xff" * 1_000_000, "image/jpeg"
        elif match := _REDIRECT.match(path):
            hops, target = int(match[1]), match[2]
            location = f"/redirect/{hops - 1}{target}" if hops > 1 else target
            status, body, headers = 302, b"", {"Location": location}
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="session")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    try:
        yield server
    finally:
        server.close()


STORES_CSV = (
    b"AreaCode,StoreName,StoreID\r\n"
    b"7100015,B P STORE,RP00001\r\n"
    b'7100015,"AB REHMAN,-1",RP00002\r\n'
    b"7000129,ZARDA HOUSE,RP00003"
)


def running_client(settings: Settings, **changes: object) -> TestClient[Litestar]:
    """A test client whose app runs the worker in-process (stores RP00001-RP00003 loaded)."""
    changes.setdefault("worker_enabled", True)
    app = make_app(settings, **changes)
    return TestClient(app=app, raise_server_exceptions=False)


async def load_test_stores(client: TestClient[Litestar]) -> None:
    from service.jobs.stores import parse_store_master, upsert_stores

    services = client.app.state.services
    await upsert_stores(services.db, parse_store_master(STORES_CSV))


@pytest.fixture
def worker_client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with running_client(settings) as client:
        client.blocking_portal.call(load_test_stores, client)
        yield client


def visit(store_id: str, *urls: str, when: str = "2026-11-21T10:00:00+05:30") -> dict[str, Any]:
    return {"store_id": store_id, "image_url": list(urls), "visit_time": when}


def submit(client: TestClient[Litestar], *visits: dict[str, Any]) -> int:
    response = client.post("/api/submit/", json={"count": len(visits), "visits": list(visits)})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def wait_settled(client: TestClient[Litestar], job_id: int, timeout: float = 20.0) -> dict:
    """Poll /api/status until the job is no longer ongoing; return the last body."""
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(f"/api/status?jobid={job_id}").json()
        if body["status"] != "ongoing":
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still ongoing after {timeout}s")
        time.sleep(0.02)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "PROCESSING_DELAY": "0.25",  # slow enough to be caught mid-job
        "JOB_CONCURRENCY": "2",
        "WEB_CONCURRENCY": "1",  # one process, killed outright (see test_jobs_processes.py)
        "LEASE_SECONDS": "2",
        "DOWNLOAD_TIMEOUT": "1",  # loopback images; the lease must outlast download + delay
        "ALLOW_PRIVATE_IMAGE_URLS": "true",
        "WORKER_ENABLED": "true",
        "LOG_LEVEL": "warning",
    }
    stores = tmp_path / "stores.csv"
    stores.write_bytes(STORES_CSV)
    running = Server(env, tmp_path / "server.log")
    running.cli("migrate")
    running.cli("load-stores", str(stores))
    try:
        yield running
    finally:
        running.kill()

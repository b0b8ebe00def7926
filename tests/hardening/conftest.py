"""Hardening fixtures: API keys per role, a small catalog, and servers that misbehave."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import create_engine
from service.storage import create_blob_store
from tests.jobs.conftest import ImageServer, image_server  # noqa: F401 - shared fixture

KEYS = {
    "admin": "admin-key-0123456789",
    "qa": "qa-key-0123456789abc",
    "lead": "lead-key-0123456789a",
    "client": "client-key-0123456789",
    "metrics": "metrics-key-01234567",
}
API_KEYS = tuple((key, role) for role, key in KEYS.items())


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


def load_small_catalog(settings: Settings, products: int = 2, snapshots: int = 6) -> list[int]:
    """Products and snapshots written straight to the tables (and blobs); snapshot ids."""
    engine = create_engine(settings.database_url, SQL_DIR)
    blobs = create_blob_store(settings.storage_url)
    try:
        return load_catalog(engine, blobs, products=products, snapshots=snapshots, seed=1)
    finally:
        engine.close()
        blobs.close()


class StalledServer:
    """Accepts HTTP requests on loopback and then never answers (or trickles, if asked).

    `/trickle` paths get a 200 with a promised body, sent one byte every `trickle_every` s:
    each read returns well within a read timeout, yet the download never ends.
    """

    def __init__(self, trickle_every: float = 0.2) -> None:
        self.stop = threading.Event()
        self.trickle_every = trickle_every
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
                if not self.path.startswith("/trickle"):
                    server.stop.wait()  # hold the request, say nothing
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                while not server.stop.wait(server.trickle_every):
                    try:
                        self.wfile.write(b"\x89")
                        self.wfile.flush()
                    except OSError:
                        return

            def stall(self) -> None:
                server.stop.wait()

            do_HEAD = do_PUT = do_POST = do_DELETE = stall  # noqa: N815 - the stdlib's names

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def stalled_server() -> Iterator[StalledServer]:
    server = StalledServer()
    try:
        yield server
    finally:
        server.close()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate: Any, timeout: float, what: str, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(every)


class TcpProxy:
    """A loopback TCP forwarder to `target_port` that can be cut and restored on one port.

    Cutting closes the listener and every open connection: to the service, the database has
    gone away (connections reset, new ones refused). Restoring listens on the same port again.
    """

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or closed_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                if listener is not self._listener:  # cut meanwhile
                    client.close()
                    upstream.close()
                    return
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not, and
            # the port would go on accepting.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

"""The one loopback image server, for the tests, `make bench` and `make loadtest`.

A threaded stdlib HTTP/1.1 server with keep-alive (as an image host or CDN would be) and a
deep accept backlog. It serves files from `directory` (the benchmarks' photos) and these
made-up routes for the tests: /img/WxH.EXT (jpg png webp gif, generated), /status/CODE,
/text (not an image), /redirect/N/PATH (N hops, then PATH), /big (1 MB of bytes),
/file/NAME (bytes handed to `serve_bytes`), /stream/N (N MB with no Content-Length, ended by
closing the connection). Any URL may add `?slow=S` (sleep S seconds before answering) or
`?gate=N` (hold the answer until N requests have been in flight at once, 10 s at most).

In a test it runs on a thread (`ImageServer()`); the benchmarks run it as its own process,
`python -m scripts.harness.image_server PORT DIRECTORY`, so its CPU is not the service's.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote

from PIL import Image

from scripts.processes import HOST, child, free_port

PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF"}
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
GATE_SECONDS = 10.0  # a gate that never fills lets requests through after this
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


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default 5 drops bursts of connects (1 s SYN retries)
    images: ImageServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer below carries its length
    server: _HTTPServer

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.server.images.handle(self)

    def log_message(self, *args: Any) -> None:
        pass


class ImageServer:
    """Serves images on 127.0.0.1 (from a thread, started at once) and records what was
    asked for: `paths`, and the most requests in flight at once (`max_active`)."""

    def __init__(self, directory: Path | None = None, port: int = 0) -> None:
        self.directory = directory.resolve() if directory else None
        self.paths: list[str] = []
        self.files: dict[str, bytes] = {}
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self.httpd = _HTTPServer((HOST, port), _Handler)
        self.httpd.images = self
        self.base = f"http://{HOST}:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def serve_bytes(self, name: str, data: bytes) -> str:
        """Serve `data` as an image/jpeg at /file/NAME; returns its URL."""
        self.files[name] = data
        return self.url(f"/file/{name}")

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        path, _, query = handler.path.partition("?")
        options = parse_qs(query)
        with self._lock:
            self.paths.append(path)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:
            if "slow" in options:
                time.sleep(float(options["slow"][0]))
            if "gate" in options:
                self._gate(int(options["gate"][0]))
            self.respond(handler, path)
        finally:
            with self._lock:
                self.active -= 1

    def _gate(self, count: int) -> None:
        """Hold until `count` requests were in flight at once (or the gate's deadline)."""
        deadline = time.monotonic() + GATE_SECONDS
        while self.max_active < count and time.monotonic() < deadline:
            time.sleep(0.005)

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
            return self._stream(handler, megabytes=int(path[8:]))
        elif path.startswith("/file/") and path[6:] in self.files:
            status, body, ctype = 200, self.files[path[6:]], "image/jpeg"
        elif path == "/big":
            status, body, ctype = 200, b"\xff" * 1_000_000, "image/jpeg"
        elif match := _REDIRECT.match(path):
            hops, target = int(match[1]), match[2]
            location = f"/redirect/{hops - 1}{target}" if hops > 1 else target
            status, body, headers = 302, b"", {"Location": location}
        elif (found := self._file(path)) is not None:
            return self._send_file(handler, found)
        handler.send_response(status)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _file(self, path: str) -> Path | None:
        """A file under `directory` (never outside it), or None."""
        if self.directory is None:
            return None
        target = (self.directory / unquote(path).lstrip("/")).resolve()
        inside = target.is_relative_to(self.directory)
        return target if inside and target.is_file() else None

    @staticmethod
    def _send_file(handler: BaseHTTPRequestHandler, file: Path) -> None:
        ctype = CONTENT_TYPES.get(file.suffix.lstrip(".").lower(), "application/octet-stream")
        handler.send_response(200)
        handler.send_header("Content-Type", ctype)
        handler.send_header("Content-Length", str(file.stat().st_size))
        handler.end_headers()
        with file.open("rb") as source:
            try:
                shutil.copyfileobj(source, handler.wfile)
            except OSError:  # the client stopped reading (its size cap): expected
                handler.close_connection = True

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, megabytes: int) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Connection", "close")  # no length: the close ends the body
        handler.end_headers()
        block = b"\xff" * 65536
        try:
            for _ in range(megabytes * 16):
                handler.wfile.write(block)
        except OSError:  # the client stopped reading (its size cap): expected
            pass
        handler.close_connection = True

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ImageServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType
    ) -> None:
        self.close()


@contextmanager
def image_server_process(directory: Path, log: Path | None = None) -> Iterator[str]:
    """The server as its own process (so its CPU is not the caller's) serving `directory`;
    yields its base URL, and stops it with SIGTERM after the block."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    args = [sys.executable, "-m", "scripts.harness.image_server", str(port), str(directory)]
    with child(args, dict(os.environ), f"{base}/", "image server", log):
        yield base


def main(argv: list[str]) -> int:
    """As its own process: serve DIRECTORY on PORT until SIGTERM (exit status 0)."""
    port, directory = int(argv[0]), Path(argv[1])
    server = ImageServer(directory, port)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    while not stopped.wait(0.5):  # a short wait: the handler runs between waits
        pass
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

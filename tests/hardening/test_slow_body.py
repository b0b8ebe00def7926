"""Slow request bodies time out (issue 18): a client that sends headers and then only the start
of its body gets 408 and a closed connection once BODY_TIMEOUT has passed, while the
server keeps answering others. Against a real server, over raw sockets."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from tests.hardening.test_sigterm import Serve

PROMISED = 5_000  # bytes the Content-Length promises; a handful are ever sent


def _slow_upload(base: str, path: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    client = socket.create_connection((host, int(port)), timeout=60)
    client.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {PROMISED}\r\n\r\n{{".encode()
    )
    return client


def _answer(client: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes the connection (or the deadline)."""
    received = b""
    while time.monotonic() < deadline:
        try:
            chunk = client.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:  # closed with our unread bytes still in its buffer
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the connection stayed open; got {received[:200]!r}")


def test_a_body_that_stalls_gets_408_and_the_connection_closed(tmp_path: Path) -> None:
    server = Serve(tmp_path, BODY_TIMEOUT="1", WORKER_ENABLED="false")
    try:
        clients = [_slow_upload(server.base, "/api/submit") for _ in range(5)]
        for client in clients:
            client.settimeout(2)
        # The server answers others meanwhile.
        assert httpx.get(f"{server.base}/healthz", timeout=30).status_code == 200
        deadline = time.monotonic() + 60  # generous: the timeout is 1 s of the server's clock
        for client in clients:
            answer = _answer(client, deadline)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:300]
            assert b"connection: close" in head.lower()
            assert b"did not arrive within 1 s (BODY_TIMEOUT)" in body
            client.close()
        # Nothing was stored from the cut-off bodies, and normal requests still work.
        assert server.sql("SELECT COUNT(*) FROM jobs") == [(0,)]
        assert httpx.get(f"{server.base}/readyz", timeout=30).status_code == 200
    finally:
        server.kill()

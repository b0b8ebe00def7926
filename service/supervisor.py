"""`serve` with WEB_CONCURRENCY > 1: one listening socket, one server process per core.

Python runs one thread of Python code at a time per process, so one process tops out at one
core however many images it downloads at once. The supervisor binds the socket once and
starts WEB_CONCURRENCY children (spawned, not forked: no inherited threads or locks), each
with its own web server, job worker and share of JOB_CONCURRENCY, all on the one database.
Claims are leases, so the children never process an image twice; the kernel spreads
connections across them. Child 0 alone runs the background upkeep (similarity catch-up,
QA session sweep).

SIGTERM or Ctrl-C to the supervisor stops every child gracefully (each drains as a single
server would) and exits 0. A child that dies on its own once it was serving is restarted (its
claimed images are retaken by anyone once their leases expire); one that dies before it
served (a start-up error such as an unreachable blob store: restarting would only repeat it)
stops the others, and the supervisor exits 1.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import multiprocessing
import os
import signal
import socket
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from types import FrameType

import msgspec
import structlog

from service.config import Settings

log = structlog.get_logger("service.serve")

_PR_SET_PDEATHSIG = 1


def share(settings: Settings, processes: int) -> Settings:
    """One child's settings: its share of JOB_CONCURRENCY (rounded up)."""
    per_process = max(1, math.ceil(settings.job_concurrency / processes))
    return msgspec.structs.replace(settings, job_concurrency=per_process)


def _die_with_parent() -> None:
    """Linux: have the kernel send SIGTERM when the supervisor dies (even by SIGKILL)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def run_child(
    settings: Settings, index: int, sock: socket.socket, parent: int, ready: Event
) -> None:
    """A child's whole life: its own app and server on the shared socket."""
    os.setpgid(0, 0)  # Ctrl-C reaches the supervisor only; it stops the children in order
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before we could ask to follow it
        return
    from service.logs import configure_logging
    from service.serving import serve_app

    configure_logging(settings.log_level, settings.log_format)
    structlog.contextvars.bind_contextvars(process=index)
    serve_app(settings, sockets=[sock], primary=index == 0, on_ready=ready.set)


class Supervisor:
    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = share(settings, processes)
        self.processes = processes
        self.context = multiprocessing.get_context("spawn")
        self.children: dict[int, tuple[BaseProcess, Event]] = {}
        self.stopping = False
        self.exit_code = 0

    def _start(self, index: int, sock: socket.socket) -> None:
        ready = self.context.Event()
        process = self.context.Process(
            target=run_child,
            args=(self.settings, index, sock, os.getpid(), ready),
            name=f"retail-pulse-web-{index}",
        )
        process.start()
        self.children[index] = (process, ready)

    def _stop_all(self, *_: object) -> None:
        if not self.stopping:
            log.info("stopping", processes=len(self.children))
        self.stopping = True
        for process, _ready in self.children.values():
            if process.pid is not None and process.exitcode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self._stop_all()

    def _reap(self, sock: socket.socket) -> None:
        """Handle every child that has exited: forget it, restart it, or stop them all."""
        for index, (process, ready) in list(self.children.items()):
            if process.exitcode is None:
                continue
            del self.children[index]
            code = process.exitcode
            if self.stopping:
                # Killed by our SIGTERM before it could handle it (still starting): clean.
                if code not in (0, -signal.SIGTERM) and self.exit_code == 0:
                    self.exit_code = 1
                continue
            if not ready.is_set():
                log.error("server process failed at start; stopping", process=index, code=code)
                self.exit_code = 1
                self._stop_all()
            else:
                log.warning("server process died; restarting it", process=index, code=code)
                self._start(index, sock)

    def run(self, sock: socket.socket) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for index in range(self.processes):
                self._start(index, sock)
            log.info(
                "serving",
                address=f"http://{self.settings.host}:{self.settings.port}",
                processes=self.processes,
                job_concurrency_each=self.settings.job_concurrency,
            )
            while self.children:
                wait([process.sentinel for process, _ in self.children.values()], timeout=1.0)
                self._reap(sock)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return self.exit_code


def supervise(settings: Settings, processes: int) -> int:
    import uvicorn

    sock = uvicorn.Config(app=None, host=settings.host, port=settings.port).bind_socket()
    sock.set_inheritable(True)
    try:
        return Supervisor(settings, processes).run(sock)
    finally:
        sock.close()

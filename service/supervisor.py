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

from service.children import follow_parent
from service.config import Settings

log = structlog.get_logger("service.serve")


def share(settings: Settings, processes: int, index: int) -> Settings:
    """Child `index`'s settings: its share of JOB_CONCURRENCY, the remainder going to the
    first children, so the shares add up to the setting (each at least 1)."""
    per_process, remainder = divmod(settings.job_concurrency, processes)
    mine = max(1, per_process + (1 if index < remainder else 0))
    return msgspec.structs.replace(settings, job_concurrency=mine)


def run_child(
    settings: Settings, index: int, sock: socket.socket, parent: int, ready: Event
) -> None:
    """A child's whole life: its own app and server on the shared socket."""
    os.setpgid(0, 0)  # Ctrl-C reaches the supervisor only; it stops the children in order
    if not follow_parent(parent):  # the supervisor died before we could ask to follow it
        return
    from service.logs import configure_logging
    from service.serving import serve_app

    configure_logging(settings.log_level, settings.log_format)
    structlog.contextvars.bind_contextvars(process=index)
    serve_app(settings, sockets=[sock], primary=index == 0, on_ready=ready.set)


class Supervisor:
    def __init__(self, settings: Settings, processes: int) -> None:
        self.settings = settings
        self.processes = processes
        self.context = multiprocessing.get_context("spawn")
        self.children: dict[int, tuple[BaseProcess, Event]] = {}
        self.signalled: set[int] = set()  # pids already sent SIGTERM
        self.stopping = False
        self.exit_code = 0

    def _start(self, index: int, sock: socket.socket) -> None:
        ready = self.context.Event()
        process = self.context.Process(
            target=run_child,
            args=(share(self.settings, self.processes, index), index, sock, os.getpid(), ready),
            name=f"retail-pulse-web-{index}",
        )
        process.start()
        self.children[index] = (process, ready)

    def _on_signal(self, sig: int, frame: FrameType | None) -> None:
        self.stopping = True  # only a flag here: the loop signals the children and logs

    def _signal_children(self) -> None:
        """SIGTERM to every live child not sent one yet (also those started meanwhile)."""
        for process, _ready in self.children.values():
            pid = process.pid
            if pid is not None and process.exitcode is None and pid not in self.signalled:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
                self.signalled.add(pid)

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
            elif not ready.is_set():
                log.error("server process failed at start; stopping", process=index, code=code)
                self.exit_code = 1
                self.stopping = True
            else:
                log.warning("server process died; restarting it", process=index, code=code)
                self._start(index, sock)

    def run(self, sock: socket.socket) -> int:
        handled = (signal.SIGTERM, signal.SIGINT)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in handled}
        try:
            for index in range(self.processes):
                if not self.stopping:
                    self._start(index, sock)
            log.info(
                "serving",
                address=f"http://{self.settings.host}:{self.settings.port}",
                processes=self.processes,
            )
            announced = False
            while self.children:
                if self.stopping:
                    if not announced:
                        log.info("stopping", processes=len(self.children))
                        announced = True
                    self._signal_children()
                wait([process.sentinel for process, _ in self.children.values()], timeout=0.2)
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

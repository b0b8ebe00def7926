"""`serve`: uvicorn with our own signal handling, so a clean stop exits 0.

On SIGTERM (or Ctrl-C) the server stops accepting connections and `Services.stopping` is set
at once, so the job worker claims nothing more; requests in progress get SHUTDOWN_GRACE
seconds, then the lifespan closes: the worker gives in-flight images SHUTDOWN_GRACE seconds
to finish and hands the rest back to the queue. Then the process exits 0.

uvicorn alone re-raises the signal after its graceful shutdown (since 0.29), so the process
ends "killed by SIGTERM" (status -15), which process managers report as a crash.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType

import structlog
import uvicorn

log = structlog.get_logger("service.serve")

HANDLED = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None] | None = None) -> None:
        super().__init__(config)
        self._on_stop = on_stop
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """uvicorn's, minus re-raising the caught signal once the shutdown is done."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        first = not self.should_exit
        super().handle_exit(sig, frame)  # sets should_exit (a second Ctrl-C: force_exit)
        # Only flag-setting is safe inside a signal handler; the rest runs on the loop.
        if first and self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopping, signal.Signals(sig).name)

    def _stopping(self, name: str) -> None:
        log.info("stopping", signal=name)
        if self._on_stop is not None:
            self._on_stop()

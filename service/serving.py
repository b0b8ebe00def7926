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
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType

import structlog
import uvicorn

from service.config import Settings

log = structlog.get_logger("service.serve")

HANDLED = (signal.SIGINT, signal.SIGTERM)


class GracefulServer(uvicorn.Server):
    def __init__(
        self,
        config: uvicorn.Config,
        on_stop: Callable[[], None] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self._on_stop = on_stop
        self._on_ready = on_ready
        self._loop: asyncio.AbstractEventLoop | None = None

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()

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


def serve_app(
    settings: Settings,
    sockets: list[socket.socket] | None = None,
    primary: bool = True,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Build the app and serve it until SIGTERM or Ctrl-C (on HOST:PORT, or on `sockets`
    that a supervisor bound). `primary` runs the background upkeep (see `Services`);
    `on_ready` is called once the app has started and the server listens."""
    from service.app import create_app

    app = create_app(settings, primary=primary)

    def stop_claiming() -> None:  # on SIGTERM, before requests drain
        services = app.state.get("services")
        if services is not None:
            services.stopping.set()

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace,  # type: ignore[arg-type]
    )
    GracefulServer(config, on_stop=stop_claiming, on_ready=on_ready).run(sockets=sockets)

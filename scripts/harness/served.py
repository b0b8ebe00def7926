"""`python -m service serve` as a child process over a temp SQLite database, for the
process-level tests (restart after SIGKILL, two processes, SIGTERM), `make bench` and
`make loadtest`: its CLI for set-up, a start that waits for readiness with a deadline, a
graceful stop and a hard kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.processes import HOST, ROOT, free_port

CLI_TIMEOUT = 300.0  # `seed` writes the demo catalog: tens of seconds on a busy machine


class Served:
    """The service on a free loopback port, its database and blobs under `workdir`, its
    output appended to `log`; `variables` are its environment on top of this process's."""

    def __init__(
        self, workdir: Path, database: str = "service.db", log: str = "serve.log", **variables: str
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.database = workdir / database
        self.log = workdir / log
        self.env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{self.database}",
            "STORAGE_URL": f"file://{workdir / 'blobs'}",
            "HOST": HOST,
            "PORT": str(free_port()),
            "LOG_LEVEL": "warning",
            "ALLOW_PRIVATE_IMAGE_URLS": "true",  # image servers here are on loopback
            **variables,
        }
        self.base = f"http://{HOST}:{self.env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> None:
        """Run `python -m service ARGS` to completion; raise with its output if it fails."""
        done = subprocess.run(
            [sys.executable, "-m", "service", *args], env=self.env, cwd=ROOT,
            capture_output=True, timeout=CLI_TIMEOUT,
        )  # fmt: skip
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")[-2000:]
            raise RuntimeError(f"service {' '.join(args)}: status {done.returncode}\n{output}")

    def migrate(self, stores: bytes | None = None, seed: bool = False) -> None:
        """A fresh database: migrated, then `stores` (a store-master CSV) loaded, or the demo
        data seeded."""
        self.cli("migrate")
        if stores is not None:
            path = self.workdir / "stores.csv"
            path.write_bytes(stores)
            self.cli("load-stores", str(path))
        if seed:
            self.cli("seed")

    def start(self, wait: bool = True, ready: str = "/healthz", timeout: float = 60) -> None:
        """Start serving; with `wait`, return once `ready` answers 200."""
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if wait:
            try:
                self.wait_ready(ready, timeout)
            except BaseException:  # never leave a half-started server behind
                self.kill()
                raise

    def wait_ready(self, ready: str = "/healthz", timeout: float = 60) -> None:
        """Poll `ready` until it answers 200; raise if the process exits or time runs out."""
        assert self.process is not None, "not started"
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"service exited with {self.process.returncode}\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}{ready}", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service not ready within {timeout:g} s\n{self.tail()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then wait for the process to exit by itself; its exit status. Killed
        (and TimeoutExpired raised) if it is still running after `timeout` s."""
        assert self.process is not None, "not started"
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        """SIGKILL, if still running: no chance to release leases or finish anything."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self, chars: int = 2000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    @contextmanager
    def running(self, ready: str = "/healthz", grace: float = 20) -> Iterator[Served]:
        """Serving for the block; then SIGTERM, and an unclean exit raises with the log."""
        self.start(ready=ready)
        try:
            yield self
        finally:
            code = self.terminate(timeout=grace)
            if code not in (0, -signal.SIGTERM):
                raise RuntimeError(f"service exited with status {code}:\n{self.tail()}")

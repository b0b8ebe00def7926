"""`python -m service serve` as a child process on a temp SQLite database, for the
durability tests (restart after SIGKILL, two processes)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from service.config import ROOT


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "service", *args], env=self.env, cwd=ROOT, check=True,
            capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self, wait: bool = True) -> None:
        """Start serving; with `wait`, return once /healthz answers."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if not wait:
            return
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def results(database: Path, job_id: int) -> list[tuple[int, int, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT seq, attempts, status FROM image_results WHERE job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()

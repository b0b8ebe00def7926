"""A small progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.started = time.monotonic()
        self._last_decile = -1
        self._last_draw = 0.0
        self._draw(force=True)

    def advance(self, count: int = 1) -> None:
        self.done = min(self.done + count, self.total) if self.total else self.done + count
        self._draw()

    def _line(self) -> str:
        width = 30
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * width)
        elapsed = time.monotonic() - self.started
        return (
            f"{self.label} [{bar:<{width}}] {self.done}/{self.total} ({share:4.0%}, {elapsed:.1f}s)"
        )

    def _draw(self, force: bool = False) -> None:
        if self.tty:
            now = time.monotonic()
            if force or self.done >= self.total or now - self._last_draw > 0.1:
                self._last_draw = now
                self.stream.write("\r" + self._line())
                self.stream.flush()
            return
        decile = int(10 * self.done / self.total) if self.total else 10
        if force or decile != self._last_decile:
            self._last_decile = decile
            self.stream.write(self._line() + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

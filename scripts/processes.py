"""Child processes for the benchmarks and the load test: a free loopback port, a server
started and awaited by polling (never a fixed sleep), stopped with SIGTERM, and the CPU time
and peak memory of a process with all its descendants (read from /proc)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    """Return once `url` answers at all; raise if the process dies or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        try:
            httpx.get(url, timeout=1, trust_env=False)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {timeout:g} s")


@contextmanager
def child(
    args: list[str], env: dict[str, str], ready_url: str, what: str, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, ready once `ready_url` answers; stopped with SIGTERM (SIGKILL after
    20 s). With `log`, its output goes there and an unclean exit raises with the log's tail."""
    output = log.open("wb") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=output)
    finally:
        if log:
            output.close()  # the child holds its own copy
    try:
        wait_http(ready_url, process, what)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if log and process.returncode not in (0, -signal.SIGTERM):
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} exited with status {process.returncode}:\n{tail}")


def _children_by_parent() -> dict[int, list[int]]:
    """Every live process's children, from /proc."""
    found: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:  # it ended meanwhile
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            found.setdefault(ppid, []).append(int(entry))
    return found


def children(pid: int) -> set[int]:
    """The live processes whose parent is `pid`."""
    return set(_children_by_parent().get(pid, []))


def process_tree(pid: int) -> list[int]:
    """`pid` and every live descendant of it."""
    parents = _children_by_parent()
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of `pid` and its live descendants."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def peak_rss_mb(pid: int) -> float:
    """The sum of each process's peak resident memory (VmHWM) over `pid`'s tree: an upper
    bound of the peak of the sum, since the peaks need not coincide."""
    total_kb = 0
    for member in process_tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024

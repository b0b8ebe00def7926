"""Child processes that end with the process that started them."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal

_PR_SET_PDEATHSIG = 1


def follow_parent(parent: int) -> bool:
    """Linux: have the kernel send this process SIGTERM when `parent` dies, even by SIGKILL,
    so no orphan keeps serving or holding memory. False if `parent` is already gone."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    return os.getppid() == parent

"""Progress bars of the long commands (seed, import-catalog, reembed): tqdm on stderr, drawn
only on a terminal, so logs, pipes and CI output stay clean."""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


def progress_bar(label: str, total: int, stream: TextIO | None = None) -> tqdm:
    """A bar counting `total` items; `update(n)` as they are done, `close()` (or `with`) at the
    end. Silent when `stream` (default stderr) is not a terminal."""
    return tqdm(
        total=total,
        desc=label,
        unit="img",
        file=stream if stream is not None else sys.stderr,
        disable=None,  # tqdm: None = off when the stream is not a TTY
        dynamic_ncols=True,
        leave=True,
    )

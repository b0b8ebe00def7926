"""The embedding process: a server process that stops is not held up by a busy batch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from service.config import ROOT

SCRIPT = textwrap.dedent(
    """
    import asyncio, time
    from service.similarity.background.offload import EmbeddingProcess

    async def main():
        offload = EmbeddingProcess("file:///tmp/unused-blobs", "default", "var/models", 1000)
        busy = asyncio.get_running_loop().run_in_executor(offload._pool, time.sleep, 120)
        while not any(p.is_alive() for p in offload._pool._processes.values()):
            await asyncio.sleep(0.05)
        offload.close()

    if __name__ == "__main__":
        asyncio.run(main())
    """
)


def test_closing_drops_a_busy_batch_instead_of_waiting_for_it(tmp_path) -> None:  # noqa: ANN001
    script = tmp_path / "stop_while_busy.py"
    script.write_text(SCRIPT)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert time.monotonic() - started < 30  # not the 120 s the batch would take

"""The sandbox Bot API in a process of its own, so it does not share the measured event loop."""
from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox import SandboxClient  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def sandbox_process() -> AsyncIterator[tuple[str, SandboxClient]]:
    """Yields (base URL, a client), once the sandbox answers; stops it afterwards."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with SandboxClient(url) as client:
            for _ in range(100):
                try:
                    await client.stats()
                    break
                except Exception:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError("the sandbox did not start")
            yield url, client
    finally:
        process.terminate()
        process.wait(10)

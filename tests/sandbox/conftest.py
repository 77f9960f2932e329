"""Fixtures: an in-process sandbox, a control client, and a *real* aiogram Bot.

Every test module sets ``pytestmark = pytest.mark.asyncio`` and fixtures use
``pytest_asyncio.fixture``, so the suite runs with or without
``asyncio_mode = auto`` in the root config.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiogram import Bot

# `import sandbox` (repo root) and `import sandbox_helpers` (this folder) must
# work under any pytest import mode, with or without a root conftest.
HERE = Path(__file__).resolve().parent
for path in (HERE.parents[1], HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sandbox import SandboxClient, SandboxServer, start_sandbox  # noqa: E402
from sandbox_helpers import TOKEN, USER, FakeClock, make_bot  # noqa: E402


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def server(clock: FakeClock) -> AsyncIterator[SandboxServer]:
    srv = await start_sandbox(clock=clock, webhook_retry=(0.05, 0.2), tokens=[TOKEN])
    srv.state.upsert_user(USER, "Иван", username="ivan")  # every test has one user
    try:
        yield srv
    finally:
        await srv.stop()


@pytest_asyncio.fixture
async def sb(server: SandboxServer) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(server.url) as client:
        yield client


@pytest_asyncio.fixture
async def bot(server: SandboxServer) -> AsyncIterator[Bot]:
    b = make_bot(server.url)
    try:
        yield b
    finally:
        await b.session.close()

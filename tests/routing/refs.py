"""Reference rows the tests route by (seeded by core/seed.py)."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Settlement, Theme, Topic

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def topic(session: AsyncSession, code: str) -> Topic:
    found = await session.scalar(select(Topic).where(Topic.code == code))
    assert found is not None
    return found


async def theme(session: AsyncSession, name: str) -> Theme:
    found = await session.scalar(select(Theme).where(Theme.name == name))
    assert found is not None
    return found


async def settlement(session: AsyncSession, name: str) -> Settlement:
    found = await session.scalar(select(Settlement).where(Settlement.name == name))
    assert found is not None
    return found

"""The ticks. Each is short, idempotent, and safe to run late or twice."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from db.models import ProcessedUpdate

# Telegram keeps an unconfirmed update for 24 hours; a week is a wide margin.
PROCESSED_UPDATES_KEEP = timedelta(days=7)


async def prune_processed_updates(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.at < clock() - PROCESSED_UPDATES_KEEP)
        )
        return int(result.rowcount or 0)

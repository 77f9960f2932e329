"""Errors that mean something for the centre, not just for the log."""
from __future__ import annotations

import logging
from datetime import datetime

from aiogram.types import ErrorEvent
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Citizen

log = logging.getLogger(__name__)


async def citizen_unreachable(event: ErrorEvent, session: AsyncSession, citizen: Citizen | None,
                              now: datetime) -> bool:
    """Telegram answered 403: the citizen blocked the bot. What they sent is kept; the record says
    they cannot be reached here, so staff use another way."""
    if citizen is not None:
        # The update's session has been closed by now (the error passed through it): a fresh
        # transaction on it, by id, since the loaded citizen is detached.
        await session.execute(
            update(Citizen)
            .where(Citizen.id == citizen.id, Citizen.unreachable_since.is_(None))
            .values(unreachable_since=now)
        )
        await session.commit()
        log.info("citizen id=%s blocked the bot", citizen.id)
    return True

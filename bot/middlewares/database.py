"""One database session per update, and each update handled once (Telegram may redeliver)."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from db.models import ProcessedUpdate

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        async with self.sessionmaker() as session:
            if not await self._first_delivery(session, bot_id, event.update_id):
                return None
            data["session"] = session
            data["now"] = self.clock()
            result = await handler(event, data)
            await session.commit()
            return result

    async def _first_delivery(self, session: AsyncSession, bot_id: int, update_id: int) -> bool:
        # A short transaction of its own: the write lock is not held while the handler
        # talks to Telegram. aiogram acknowledges updates whatever the handler does, so
        # marking first loses nothing Telegram would have redelivered.
        insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
        result = await session.execute(
            insert(ProcessedUpdate)
            .values(bot_id=bot_id, update_id=update_id, at=self.clock())
            .on_conflict_do_nothing()
        )
        await session.commit()
        return bool(result.rowcount)

"""One database session per update, each update handled once (Telegram may redeliver), and
everything the bot tells a user already committed.

The update's session is published in a context variable, so the FSM storage works inside the
same transaction and the Bot session can commit it before any call to Telegram: the database
connection is never held while waiting on the network, and a reply never announces something
that could still be rolled back.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import TelegramObject, Update
from sqlalchemy import bindparam
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from db.models import ProcessedUpdate
from db.upsert import per_dialect

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Built once: on every update, building the statement cost more than running it on SQLite.
_MARK_FIRST_DELIVERY = per_dialect(
    lambda insert: insert(ProcessedUpdate.__table__)
    .values(bot_id=bindparam("bot_id"), update_id=bindparam("update_id"), at=bindparam("at"))
    .on_conflict_do_nothing()
)

current_session: ContextVar[AsyncSession | None] = ContextVar("mcu_update_session", default=None)


class DatabaseMiddleware(BaseMiddleware):
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        bot_id = data["bot"].id
        async with self.sessionmaker() as session:
            if not await self._first_delivery(session, bot_id, event.update_id):
                await session.rollback()
                return None
            data["session"] = session
            data["now"] = self.clock()
            token = current_session.set(session)
            try:
                result = await handler(event, data)
                await session.commit()
            finally:
                current_session.reset(token)
            return result

    async def _first_delivery(self, session: AsyncSession, bot_id: int, update_id: int) -> bool:
        # The mark is the first statement of the update's own transaction: it commits with the
        # handler's work (or before the first reply), so a redelivered update finds it, and a
        # concurrent duplicate waits on the unique key and then finds it too.
        result = await session.execute(
            _MARK_FIRST_DELIVERY[session.bind.dialect.name],
            {"bot_id": bot_id, "update_id": update_id, "at": self.clock()},
        )
        return bool(result.rowcount)


class CommitBeforeSend(BaseRequestMiddleware):
    """Before any call to Telegram, commit the current update's work (if any)."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        session = current_session.get()
        if session is not None and session.in_transaction():
            await session.commit()
        return await make_request(bot, method)

"""Who is writing: a citizen record (created on first contact) and, for staff, their roles."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy.ext.asyncio import AsyncSession

from core.citizens import TelegramProfile, find_writer, get_or_create_citizen
from db.models import Staff

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UserMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        session: AsyncSession = data["session"]
        data["citizen"] = None
        data["staff"] = None
        data["roles"] = frozenset()
        if user is not None and not user.is_bot:
            citizen, staff_id = await find_writer(session, user.id)
            staff = None if staff_id is None else await session.get(Staff, staff_id)
            if staff is not None:
                data["staff"] = staff
                data["roles"] = staff.role_set
            data["citizen"] = await get_or_create_citizen(
                session,
                TelegramProfile(
                    telegram_id=user.id,
                    first_name=user.first_name,
                    last_name=user.last_name,
                    username=user.username,
                    language_code=user.language_code,
                ),
                known=citizen,
            )
        return await handler(event, data)

"""/web: a staff member asks for a one-time link to set a password and sign in to the admin.

The reply is direct (a live dialogue) and protected from forwarding; the link works once, for 48 hours.
"""
from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.handlers.staff import staff_only
from core.settings import Settings
from core.staff import invite_text
from core.staff_auth import create_invite
from db.models import Staff


async def web_link(message: Message, staff: Staff | None, session: AsyncSession, settings: Settings,
                   now: datetime) -> None:
    if staff is None:
        await message.answer(staff_only())
        return
    token = await create_invite(session, staff, staff, now)
    link = f"{settings.admin_base_url}/invite/{token}"
    await message.answer(invite_text(_, link, staff.login or ""), protect_content=True)


def make_router() -> Router:
    router = Router(name="staff_web")
    router.message.register(web_link, Command("web"))
    return router

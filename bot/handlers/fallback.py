"""What nobody else handled: unknown commands and stray button presses."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _



async def unknown_command(message: Message) -> None:
    await message.answer(_("Такой команды нет. Список команд — /help."))


async def stale_button(query: CallbackQuery) -> None:
    # An old, foreign or forged button: answer so the client stops spinning, change nothing.
    await query.answer(_("Эта кнопка больше не действует."), show_alert=True)


def make_router() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.callback_query.register(stale_button)
    return router

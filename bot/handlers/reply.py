"""The citizen's buttons on messages about their item: answer the official's question, withdraw the
item. Only the item's own citizen may press them; staff never see the citizen's chat."""
from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ItemCb
from bot.handlers.drafts import start_draft
from bot.handlers.presses import context, not_now, perform, pressed_item, shorten
from core import lifecycle
from core.deadlines import DeadlineContextCache
from core.lifecycle import FINAL, TRANSITIONS
from core.settings import Settings
from db.models import Citizen, Staff, Status


async def reply_pressed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                        citizen: Citizen | None, state: FSMContext) -> None:
    item = await pressed_item(query, "reply", callback_data.item_id, session, staff, citizen, lock=False)
    if item is None:
        return
    if Status(item.status) in FINAL:
        await query.answer(_("Обращение № {number} уже закрыто.").format(number=item.number), show_alert=True)
        return
    await start_draft(query, state, "reply", item)


async def withdraw_pressed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession,
                           staff: Staff | None, citizen: Citizen | None) -> None:
    item = await pressed_item(query, "withdraw", callback_data.item_id, session, staff, citizen, lock=False)
    if item is None:
        return
    if Status.withdrawn not in TRANSITIONS[Status(item.status)]:
        await query.answer(not_now(item), show_alert=True)
        return
    keyboard = InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=_("Да, отозвать"), callback_data=ItemCb(action="withdrawok", item_id=item.id).pack()),
        InlineKeyboardButton(text=_("Нет, оставить"), callback_data=ItemCb(action="keep", item_id=item.id).pack()),
    ]])
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Отозвать обращение № {number}? Работа по нему будет прекращена.").format(number=item.number),
            reply_markup=keyboard)


async def withdraw_confirmed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession,
                             staff: Staff | None, citizen: Citizen | None, settings: Settings, now: datetime,
                             deadline_cache: DeadlineContextCache) -> None:
    item = await pressed_item(query, "withdrawok", callback_data.item_id, session, staff, citizen)
    if item is None or citizen is None:
        return
    ctx = await context(session, settings, now, deadline_cache)
    number = item.number
    _done, error = await perform(session, lambda: lifecycle.withdraw(ctx, item, citizen))
    await query.answer(shorten(error) if error else None, show_alert=error is not None)
    if error is None and isinstance(query.message, Message):
        await query.message.edit_text(_("Обращение № {number} отозвано.").format(number=number))


async def keep_pressed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                       citizen: Citizen | None) -> None:
    if await pressed_item(query, "keep", callback_data.item_id, session, staff, citizen, lock=False) is None:
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(_("Хорошо, обращение остаётся в работе."))


def make_router() -> Router:
    router = Router(name="reply")
    router.callback_query.register(reply_pressed, ItemCb.filter(F.action == "reply"))
    router.callback_query.register(withdraw_pressed, ItemCb.filter(F.action == "withdraw"))
    router.callback_query.register(withdraw_confirmed, ItemCb.filter(F.action == "withdrawok"))
    router.callback_query.register(keep_pressed, ItemCb.filter(F.action == "keep"))
    return router

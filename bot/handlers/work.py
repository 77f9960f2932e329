"""The recipient's card: accept the item, ask the citizen, give an interim or the final answer,
send it back as "not ours", ask for more time."""
from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ItemCb
from bot.handlers.drafts import start_draft
from bot.handlers.presses import context, immediate, not_now, offered, pressed_item
from core import lifecycle
from core.deadlines import DeadlineContextCache
from core.settings import Settings
from db.models import Citizen, Staff

DRAFT_ACTIONS = ("ask", "interim", "answer", "notours", "extend")


async def accept(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                 citizen: Citizen | None, settings: Settings, now: datetime,
                 deadline_cache: DeadlineContextCache) -> None:
    item = await pressed_item(query, "accept", callback_data.item_id, session, staff, citizen)
    if item is None or staff is None:
        return
    ctx = await context(session, settings, now, deadline_cache)

    async def action() -> str:
        await lifecycle.accept(ctx, item, staff)
        return _("№ {number} принято в работу; заявитель получит уведомление.").format(number=item.number)

    await immediate(query, ctx, item, staff, action)


async def draft(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                citizen: Citizen | None, state: FSMContext, settings: Settings, now: datetime,
                deadline_cache: DeadlineContextCache) -> None:
    action = callback_data.action
    item = await pressed_item(query, action, callback_data.item_id, session, staff, citizen, lock=False)
    if item is None or staff is None:
        return
    if action == "extend" and (item.extended or item.extension_requested_at is not None):
        reason = (_("Срок по № {number} уже продлевался; закон позволяет это один раз.") if item.extended
                  else _("Запрос на продление по № {number} уже отправлен."))
        await query.answer(reason.format(number=item.number), show_alert=True)
        return
    if action == "extend":
        ctx = await context(session, settings, now, deadline_cache)
        if ctx.deadlines.book.durations_of(item).extension is None:
            await query.answer(_("Для этого вида обращений продление срока не предусмотрено."), show_alert=True)
            return
    if not await offered(session, item, staff, action):
        await query.answer(not_now(item), show_alert=True)
        return
    await start_draft(query, state, action, item)


def make_router() -> Router:
    router = Router(name="work")
    router.callback_query.register(accept, ItemCb.filter(F.action == "accept"))
    router.callback_query.register(draft, ItemCb.filter(F.action.in_(DRAFT_ACTIONS)))
    return router

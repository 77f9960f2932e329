"""The centre's buttons: route a new item (the suggested organisation, or one picked from the
list), approve an answer or return it for rework, decide on a request for more time."""
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

from bot.callbacks import ItemCb, OrgCb, OrgPageCb
from bot.handlers.drafts import start_draft
from bot.handlers.presses import context, immediate, not_now, offered, pressed_item
from core import lifecycle
from core.actors import Actor
from core.cards import TRIAGE_STATUSES, local
from core.deadlines import DeadlineContextCache
from core.routing import list_organisations
from core.settings import Settings
from db.models import Citizen, Item, Organisation, Staff

PAGE = 8


async def _triage_item(query: CallbackQuery, action: str, item_id: int, session: AsyncSession,
                       staff: Staff | None, citizen: Citizen | None) -> Item | None:
    """The item, if this person may route it and it still waits for routing (a stale triage card
    must not move an item that someone has routed meanwhile)."""
    item = await pressed_item(query, action, item_id, session, staff, citizen)
    if item is None or staff is None:
        return None
    if item.status not in TRIAGE_STATUSES:
        await query.answer(_("№ {number} уже распределено.").format(number=item.number) + " " + not_now(item),
                           show_alert=True)
        return None
    return item


async def _route_to(query: CallbackQuery, session: AsyncSession, item: Item, staff: Staff, org_id: int,
                    settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    ctx = await context(session, settings, now, deadline_cache)

    async def action() -> str:
        await lifecycle.assign(ctx, item, org_id, Actor.staff(staff.id))
        org = await session.get(Organisation, org_id)
        return _("№ {number} направлено: {org}.").format(number=item.number, org=org.name if org else org_id)

    await immediate(query, ctx, item, staff, action)


async def route(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                citizen: Citizen | None, settings: Settings, now: datetime,
                deadline_cache: DeadlineContextCache) -> None:
    item = await _triage_item(query, "route", callback_data.item_id, session, staff, citizen)
    if item is None or staff is None:
        return
    if item.suggested_organisation_id is None:
        await query.answer(_("Правила не подсказали исполнителя — нажмите «Выбрать организацию»."), show_alert=True)
        return
    await _route_to(query, session, item, staff, item.suggested_organisation_id, settings, now, deadline_cache)


def _org_keyboard(item: Item, orgs: list[Organisation], page: int) -> InlineKeyboardMarkup:
    pages = max(1, (len(orgs) + PAGE - 1) // PAGE)
    page = min(max(page, 0), pages - 1)
    rows = [[InlineKeyboardButton(text=(("★ " if org.id == item.suggested_organisation_id else "") + org.name)[:60],
                                  callback_data=OrgCb(item_id=item.id, org_id=org.id).pack())]
            for org in orgs[page * PAGE:(page + 1) * PAGE]]
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton(text=_("‹ Назад"), callback_data=OrgPageCb(item_id=item.id, page=page - 1).pack()))
    if page < pages - 1:
        nav.append(InlineKeyboardButton(text=_("Дальше ›"), callback_data=OrgPageCb(item_id=item.id, page=page + 1).pack()))
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def pick(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
               citizen: Citizen | None) -> None:
    item = await _triage_item(query, "pick", callback_data.item_id, session, staff, citizen)
    if item is None:
        return
    orgs = await list_organisations(session, active_only=True)
    if not orgs:
        await query.answer(_("В справочнике нет ни одной действующей организации: добавьте их (mcu org add)."),
                           show_alert=True)
        return
    text = _("Кому направить № {number}?").format(number=item.number)
    if item.suggested_organisation_id is not None:
        text += " " + _("★ — подсказка правил маршрутизации.")
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=_org_keyboard(item, orgs, 0))


async def org_page(query: CallbackQuery, callback_data: OrgPageCb, session: AsyncSession, staff: Staff | None,
                   citizen: Citizen | None) -> None:
    item = await _triage_item(query, "pick", callback_data.item_id, session, staff, citizen)
    if item is None:
        return
    orgs = await list_organisations(session, active_only=True)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=_org_keyboard(item, orgs, callback_data.page))


async def org_chosen(query: CallbackQuery, callback_data: OrgCb, session: AsyncSession, staff: Staff | None,
                     citizen: Citizen | None, settings: Settings, now: datetime,
                     deadline_cache: DeadlineContextCache) -> None:
    item = await _triage_item(query, "pick", callback_data.item_id, session, staff, citizen)
    if item is None or staff is None:
        return
    await _route_to(query, session, item, staff, callback_data.org_id, settings, now, deadline_cache)


async def approve(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                  citizen: Citizen | None, settings: Settings, now: datetime,
                  deadline_cache: DeadlineContextCache) -> None:
    item = await pressed_item(query, "approve", callback_data.item_id, session, staff, citizen)
    if item is None or staff is None:
        return
    ctx = await context(session, settings, now, deadline_cache)

    async def action() -> str:
        await lifecycle.approve(ctx, item, staff)
        return _("Ответ по № {number} утверждён и отправлен заявителю.").format(number=item.number)

    await immediate(query, ctx, item, staff, action)


async def rework(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                 citizen: Citizen | None, state: FSMContext) -> None:
    item = await pressed_item(query, "rework", callback_data.item_id, session, staff, citizen, lock=False)
    if item is None or staff is None:
        return
    if not await offered(session, item, staff, "rework"):
        await query.answer(not_now(item), show_alert=True)
        return
    await start_draft(query, state, "rework", item)


async def extension(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                    citizen: Citizen | None, settings: Settings, now: datetime,
                    deadline_cache: DeadlineContextCache) -> None:
    item = await pressed_item(query, callback_data.action, callback_data.item_id, session, staff, citizen)
    if item is None or staff is None:
        return
    ctx = await context(session, settings, now, deadline_cache)
    approved = callback_data.action == "extyes"

    async def action() -> str:
        await lifecycle.decide_extension(ctx, item, staff, approved)
        if approved:
            return _("Срок по № {number} продлён до {due}; заявитель и исполнитель получат уведомление.").format(
                number=item.number, due=local(item.due_answer_at, settings.tz))
        return _("В продлении срока по № {number} отказано; исполнитель получит уведомление.").format(
            number=item.number)

    await immediate(query, ctx, item, staff, action)


def make_router() -> Router:
    router = Router(name="review")
    router.callback_query.register(route, ItemCb.filter(F.action == "route"))
    router.callback_query.register(pick, ItemCb.filter(F.action == "pick"))
    router.callback_query.register(org_page, OrgPageCb.filter())
    router.callback_query.register(org_chosen, OrgCb.filter())
    router.callback_query.register(approve, ItemCb.filter(F.action == "approve"))
    router.callback_query.register(rework, ItemCb.filter(F.action == "rework"))
    router.callback_query.register(extension, ItemCb.filter(F.action.in_({"extyes", "extno"})))
    return router

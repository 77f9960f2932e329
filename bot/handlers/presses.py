"""What every press of an item button does first, and how a lifecycle action is run from the bot.

A press is checked against the presser's rights every time (a button can be forwarded, forged, or
outlived by a change of organisation). A lifecycle action runs in a savepoint of the update's
transaction: when it is refused (`TransitionError`), its half-made changes go, while the update's
own bookkeeping (dedup mark, dialogue state) stays.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.cards import card_data, staff_buttons, staff_card
from core.deadlines import DeadlineContextCache
from core.lifecycle import (
    N_,
    LifecycleContext,
    TransitionError,
    allowed_actions,
    lifecycle_context,
    load_item,
    may,
)
from core.settings import Settings
from db.models import Attachment, Citizen, Item, Staff, Status

log = logging.getLogger(__name__)
T = TypeVar("T")

# The citizen's own buttons; every other action is staff work checked by `core.lifecycle.may`.
CITIZEN_ACTIONS = frozenset({"reply", "withdraw", "withdrawok", "keep"})
# Buttons that only show something: the right to see the card is enough.
VIEW_ACTIONS = {"card": "card", "files": "card"}


def allowed(action: str, item: Item, staff: Staff | None, citizen: Citizen | None) -> bool:
    if action in CITIZEN_ACTIONS:
        return citizen is not None and item.citizen_id == citizen.id
    return may(staff, item, VIEW_ACTIONS.get(action, action))


def refusal(action: str, staff: Staff | None) -> str:
    if action in CITIZEN_ACTIONS:
        return _("Эта кнопка — для заявителя, который подал обращение.")
    if staff is None:
        return _("Эта кнопка — для сотрудников МЦУ. Чтобы сообщить о проблеме, просто напишите её сюда.")
    return _("Это обращение не в вашем ведении: действие недоступно.")


async def pressed_item(query: CallbackQuery, action: str, item_id: int, session: AsyncSession,
                       staff: Staff | None, citizen: Citizen | None, *, lock: bool = True) -> Item | None:
    """The item of a press if the presser may do `action` on it; otherwise the press is answered
    with the reason and None comes back."""
    item = await load_item(session, item_id, lock=lock)
    if item is None:
        await query.answer(_("Обращение не найдено."), show_alert=True)
        return None
    if not allowed(action, item, staff, citizen):
        # Ids only: who pressed what is enough to look into it; no names or texts in the log.
        log.info("refused press %s on item id=%s by staff id=%s citizen id=%s", action, item_id,
                 staff.id if staff else None, citizen.id if citizen else None)
        await query.answer(refusal(action, staff), show_alert=True)
        return None
    return item


async def context(session: AsyncSession, settings: Settings, now: datetime,
                  deadline_cache: DeadlineContextCache) -> LifecycleContext:
    return await lifecycle_context(session, settings, now, deadline_cache)


async def perform(session: AsyncSession, action: Callable[[], Awaitable[T]]) -> tuple[T | None, str | None]:
    """Run a lifecycle action; returns (its result, None) or (None, the reason it was refused).

    After a refusal the item is expired by the rollback: do not read it (the reason already
    names the item)."""
    try:
        async with session.begin_nested():
            return await action(), None
    except TransitionError as err:
        return None, err.localized(_)


def shorten(text: str) -> str:
    """An alert holds at most 200 characters."""
    return text if len(text) <= 200 else text[:199] + "…"


def markup(data: dict[str, Any] | None) -> InlineKeyboardMarkup | None:
    """A keyboard core/cards.py built as a plain dict."""
    return InlineKeyboardMarkup.model_validate(data) if data else None


async def card_view(ctx: LifecycleContext, item: Item, staff: Staff) -> tuple[str, InlineKeyboardMarkup | None]:
    """The card with the buttons this person may use now, plus «Вложения» when there are files."""
    text, keyboard = await staff_card(ctx, item, staff)
    rows = list((keyboard or {}).get("inline_keyboard", []))
    files = await item_files(ctx.session, item)
    if files:
        rows.append([{"text": _("Вложения ({count})").format(count=len(files)),
                      "callback_data": f"it:files:{item.id}"}])
    return text, markup({"inline_keyboard": rows} if rows else None)


async def buttons_now(ctx: LifecycleContext, item: Item, staff: Staff) -> InlineKeyboardMarkup | None:
    """Only the buttons of the card: what this person can do next, after an action."""
    _text, keyboard = await staff_card(ctx, item, staff)
    return markup(keyboard)


async def item_files(session: AsyncSession, item: Item) -> list[Attachment]:
    return list((await session.scalars(
        select(Attachment).where(Attachment.item_id == item.id, Attachment.telegram_file_id.is_not(None))
        .order_by(Attachment.id))).all())


async def drop_buttons(query: CallbackQuery) -> None:
    """The pressed card has done its job: its buttons go, so nobody presses them twice."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        await query.message.edit_reply_markup(reply_markup=None)


async def reply(query: CallbackQuery, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=keyboard)


async def offered(session: AsyncSession, item: Item, staff: Staff, action: str) -> bool:
    """Whether the card would show this person the button now: the same rule as the cards, so a
    stale button (the item moved on) is caught before anyone types a long text in vain."""
    d = await card_data(session, item, staff.language)
    keyboard = staff_buttons(d, allowed_actions(staff, item), _) or {}
    wanted = f"it:{action}:{item.id}"
    return any(b.get("callback_data") == wanted for row in keyboard.get("inline_keyboard", []) for b in row)


def not_now(item: Item) -> str:
    return TransitionError(N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
                           number=item.number, status=Status(item.status)).localized(_)


async def immediate(query: CallbackQuery, ctx: LifecycleContext, item: Item, staff: Staff,
                    action: Callable[[], Awaitable[str]]) -> None:
    """A one-tap action: run it, take the buttons off the pressed card, and say what happened with
    the buttons that make sense next. Refused → an alert with the reason, nothing changed."""
    done, error = await perform(ctx.session, action)
    if error is not None or done is None:
        await query.answer(shorten(error or ""), show_alert=True)
        return
    keyboard = await buttons_now(ctx, item, staff)
    await query.answer()
    await drop_buttons(query)
    await reply(query, done, keyboard)

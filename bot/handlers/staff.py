"""Staff commands: /queue, /item; and the buttons that open a card or its files. Each is checked by
role on every call. (/report is bot/handlers/report.py.)"""
from __future__ import annotations

from datetime import datetime
from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ItemCb
from bot.handlers.presses import card_view, context, item_files, pressed_item
from bot.texts import excerpt
from core.cards import due_phrase, status_label
from core.deadlines import DeadlineContextCache
from core.lifecycle import find_by_number, may
from core.queues import Queue, staff_queues
from core.settings import Settings
from db.models import Citizen, Staff

# Files a card press sends at most; the rest are in the admin's card.
FILES_SHOWN = 10


def staff_only() -> str:
    return _("Эта команда доступна только сотрудникам МЦУ. Чтобы сообщить о проблеме, просто "
             "напишите её сюда.")


def _queue_title(kind: str) -> str:
    return {
        "triage": _("На распределение"),
        "review": _("Ответы на проверке"),
        "extension": _("Просьбы о продлении срока"),
        "organisation": _("Обращения вашей организации"),
    }[kind]


def _queue_message(queue: Queue, now: datetime, settings: Settings) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{_queue_title(queue.kind)}</b> ({queue.total})", ""]
    buttons = []
    for item in queue.items:
        line = f"<b>№ {item.number}</b> · {status_label(item.status, _)} · " + _("срок: {due}").format(
            due=due_phrase(item.due_answer_at, now, settings.tz, _))
        if item.id in queue.returned:
            line += " · " + _("вернули как «не наше»")
        lines.append(line)
        lines.append(excerpt(item.text, 70) if item.text else _("(вложение)"))
        buttons.append(InlineKeyboardButton(text=f"№ {item.number}",
                                            callback_data=ItemCb(action="card", item_id=item.id).pack()))
    if queue.total > len(queue.items):
        lines += ["", _("…и ещё {count}. Откройте нужное командой /item НОМЕР.").format(
            count=queue.total - len(queue.items))]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def queue(message: Message, staff: Staff | None, session: AsyncSession, settings: Settings,
                now: datetime) -> None:
    if staff is None:
        await message.answer(staff_only())
        return
    queues = await staff_queues(session, staff)
    if not queues:
        await message.answer(_("Для ваших ролей очереди нет. Карточку обращения откроет команда /item НОМЕР."))
        return
    waiting = [q for q in queues if q.total]
    if not waiting:
        await message.answer(_("Очередь пуста: ничего не ждёт вашего решения."))
        return
    for q in waiting:
        text, keyboard = _queue_message(q, now, settings)
        await message.answer(text, reply_markup=keyboard)


async def item_command(message: Message, command: CommandObject, staff: Staff | None, session: AsyncSession,
                       settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    if staff is None:
        await message.answer(staff_only())
        return
    wanted = (command.args or "").strip()
    if not wanted:
        await message.answer(_("Напишите номер обращения: /item 42 или /item 2026-000042."))
        return
    item = await find_by_number(session, wanted, now, settings.tz)
    if item is None:
        await message.answer(_("Обращение «{number}» не найдено. Номер пишется так: 42 или 2026-000042.").format(
            number=escape(wanted[:40])))
        return
    if not may(staff, item, "card"):
        await message.answer(_("Обращение № {number} не в вашем ведении: его карточка вам недоступна.").format(
            number=item.number))
        return
    ctx = await context(session, settings, now, deadline_cache)
    text, keyboard = await card_view(ctx, item, staff)
    await message.answer(text, reply_markup=keyboard)


async def card_pressed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                       citizen: Citizen | None, settings: Settings, now: datetime,
                       deadline_cache: DeadlineContextCache) -> None:
    item = await pressed_item(query, "card", callback_data.item_id, session, staff, citizen, lock=False)
    if item is None or staff is None:
        return
    ctx = await context(session, settings, now, deadline_cache)
    text, keyboard = await card_view(ctx, item, staff)
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=keyboard)


async def files_pressed(query: CallbackQuery, callback_data: ItemCb, session: AsyncSession, staff: Staff | None,
                        citizen: Citizen | None) -> None:
    item = await pressed_item(query, "files", callback_data.item_id, session, staff, citizen, lock=False)
    if item is None:
        return
    files = await item_files(session, item)
    number = item.number
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if not files:
        await query.message.answer(_("У № {number} нет вложений.").format(number=number))
        return
    caption = f"№ {number}"
    for f in files[:FILES_SHOWN]:
        assert f.telegram_file_id is not None
        # A file id is sent back by its own kind: Telegram refuses a voice note sent as a document.
        send = {"photo": query.message.answer_photo, "voice": query.message.answer_voice,
                "video": query.message.answer_video, "audio": query.message.answer_audio}.get(
            f.kind, query.message.answer_document)
        await send(f.telegram_file_id, caption=caption)
    if len(files) > FILES_SHOWN:
        await query.message.answer(_("Показаны {shown} вложений из {total}; остальные — в карточке в админке.").format(
            shown=FILES_SHOWN, total=len(files)))


def make_router() -> Router:
    router = Router(name="staff")
    router.message.register(queue, Command("queue"))
    router.message.register(item_command, Command("item"))
    router.callback_query.register(card_pressed, ItemCb.filter(F.action == "card"))
    router.callback_query.register(files_pressed, ItemCb.filter(F.action == "files"))
    return router

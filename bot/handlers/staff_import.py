"""`/import pos` or `/import im`, then the export as a document (or the document with that caption):
the same check, import and report as `mcu import`.

The import runs in the update's transaction and is committed before the report is sent, so the
report never announces rows that could still be rolled back. A long report comes as a text file.
"""
from __future__ import annotations

import html
import io
import logging
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    Document,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ImportCb
from bot.handlers.staff_new import may_register, refusal
from core.deadlines import DeadlineContextCache
from core.imports import IMPORT_CHANNELS, format_report, import_file
from core.intake import MAX_FILE_SIZE
from core.lifecycle import lifecycle_context
from core.registration import channel_label
from core.settings import Settings
from db.models import Role, Staff

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 3500  # a report longer than this goes as a file, with its first lines in the message
ALIASES = {"pos": "pos", "пос": "pos", "im": "im", "им": "im"}


class ImportFile(StatesGroup):
    waiting = State()


def _channels_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for channel in IMPORT_CHANNELS:
        kb.button(text=channel_label(channel, _), callback_data=ImportCb(channel=channel))
    kb.button(text=_("Отменить"), callback_data=ImportCb(channel="cancel"))
    kb.adjust(2, 1)
    return kb.as_markup()


def _cancel_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text=_("Отменить"), callback_data=ImportCb(channel="cancel"))
    return kb.as_markup()


def _ask_file(channel: str) -> str:
    return _("Пришлите выгрузку «{source}» документом: .xlsx или .csv (UTF-8 или Windows-1251). Обязательные "
             "столбцы — «Номер», «Дата создания», «Текст». Файл проверяется целиком: если в нём есть ошибки, "
             "не импортируется ничего, и я перечислю все плохие строки.").format(source=channel_label(channel, _))


async def import_command(message: Message, command: CommandObject, state: FSMContext, roles: frozenset[Role],
                         staff: Staff | None, bot: Bot, session: AsyncSession, settings: Settings, now: datetime,
                         deadline_cache: DeadlineContextCache) -> None:
    if not may_register(roles) or staff is None:
        await message.answer(refusal(staff))
        return
    channel = ALIASES.get((command.args or "").strip().lower())
    if channel is None:
        await state.clear()
        await message.answer(_("Выгрузку какой системы вы загружаете? (Можно сразу: /import pos или /import im.)"),
                             reply_markup=_channels_keyboard())
        return
    if message.document is not None:  # the file came with the command as its caption
        await state.clear()
        await _run(message, message.document, channel, staff.id, bot, session, settings, now, deadline_cache)
        return
    await state.set_state(ImportFile.waiting)
    await state.update_data(channel=channel)
    await message.answer(_ask_file(channel), reply_markup=_cancel_keyboard())


async def on_channel(query: CallbackQuery, callback_data: ImportCb, state: FSMContext, roles: frozenset[Role],
                     staff: Staff | None) -> None:
    if not may_register(roles):
        await query.answer(refusal(staff), show_alert=True)
        return
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.channel not in IMPORT_CHANNELS:
        await state.clear()
        await query.message.edit_text(_("Импорт отменён."))
        return
    await state.set_state(ImportFile.waiting)
    await state.update_data(channel=callback_data.channel)
    await query.message.edit_text(_ask_file(callback_data.channel), reply_markup=_cancel_keyboard())


async def cancel(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Импорт отменён."))


async def on_document(message: Message, state: FSMContext, roles: frozenset[Role], staff: Staff | None, bot: Bot,
                      session: AsyncSession, settings: Settings, now: datetime,
                      deadline_cache: DeadlineContextCache) -> None:
    if not may_register(roles) or staff is None or message.document is None:
        await state.clear()
        await message.answer(refusal(staff))
        return
    channel = (await state.get_data()).get("channel", "pos")
    await state.clear()
    await _run(message, message.document, channel, staff.id, bot, session, settings, now, deadline_cache)


async def not_a_document(message: Message) -> None:
    await message.answer(_("Жду файл .xlsx или .csv документом (скрепка → Файл). Передумали — /cancel."))


async def _run(message: Message, document: Document, channel: str, staff_id: int, bot: Bot, session: AsyncSession,
               settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    name = document.file_name or "file"
    if document.file_size is not None and document.file_size > MAX_FILE_SIZE:
        await message.answer(_("Файл больше 20 МБ: бот не может его скачать. Разделите выгрузку на части или "
                               "загрузите её командой «mcu import» на сервере."))
        return
    await message.answer(_("Проверяю и импортирую «{file}»…").format(file=html.escape(name)))
    data = await bot.download(document, destination=io.BytesIO())
    assert data is not None
    ctx = await lifecycle_context(session, settings, now, deadline_cache)
    try:
        async with session.begin_nested():  # a failure leaves the update's own bookkeeping intact
            report = await import_file(ctx, data.getvalue(), name, channel, staff_id=staff_id)
    except IntegrityError:
        # Someone imported the same rows at this very moment; their import stands.
        await message.answer(_("Этот файл сейчас импортирует кто-то ещё. Ничего не записано; пришлите файл "
                               "ещё раз через минуту — уже импортированные строки будут пропущены."))
        return
    await session.commit()
    log.info("import %s by staff id=%s: %s imported, %s skipped, %s errors", channel, staff_id, report.imported,
             report.skipped_existing, len(report.errors))
    text = format_report(report, get_i18n().current_locale)
    if len(text) <= MESSAGE_LIMIT:
        await message.answer(html.escape(text))
        return
    head = text[:MESSAGE_LIMIT].rsplit("\n", 1)[0]
    await message.answer(html.escape(head) + "\n…\n" + _("Полный отчёт — в файле."))
    await message.answer_document(BufferedInputFile(text.encode("utf-8"), filename="import-report.txt"))


def make_router() -> Router:
    router = Router(name="staff_import")
    router.message.register(import_command, Command("import"))
    router.callback_query.register(on_channel, ImportCb.filter())
    router.message.register(cancel, Command("cancel"), ImportFile.waiting)
    router.message.register(cancel, ImportFile.waiting, F.text.lower().in_({"отменить", "отмена", "cancel"}))
    router.message.register(on_document, ImportFile.waiting, F.document)
    router.message.register(not_a_document, ImportFile.waiting, ~F.text.startswith("/"))
    return router

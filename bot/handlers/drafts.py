"""Drafts: what staff and citizens type after pressing a card button — a question, an answer with
files, a reason, a review comment, the citizen's reply.

One small state machine serves them all: text → files (when the action takes them) → a last look
(for the final answer) → the lifecycle action. «Отменить» leaves at any step with nothing changed.
Each draft carries a token that its buttons repeat, so a stale button never sends a newer draft.
"""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import DraftCb
from bot.handlers.presses import allowed, buttons_now, context, perform, refusal
from core import lifecycle
from core.deadlines import DeadlineContextCache
from core.intake import MAX_FILE_SIZE, FileIn
from core.lifecycle import LifecycleContext, load_item
from core.settings import Settings
from db.models import Citizen, Item, Staff, Status

MAX_FILES = 10
# Bots cannot download files over 20 MB (Bot API getFile), so such a file could not be kept.
EXCERPT = 3000  # the last look before sending stays under Telegram's 4096 characters


class Draft(StatesGroup):
    text = State()
    files = State()
    confirm = State()


Send = Callable[[LifecycleContext, Item, Any, str, list[FileIn]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class DraftSpec:
    prompt: Callable[[str], str]  # the item's number → what to type
    send: Send  # runs the lifecycle action; returns what to tell the author
    files: bool = False
    confirm: bool = False
    citizen: bool = False  # the citizen's own draft: a file alone is an answer too


async def _ask(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.ask_citizen(ctx, item, staff, text)
    return _("Вопрос по № {number} отправлен заявителю. Его ответ придёт сюда.").format(number=item.number)


async def _interim(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.interim_answer(ctx, item, staff, text, files)
    return _("Промежуточный ответ по № {number} отправлен заявителю.").format(number=item.number)


async def _answer(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.answer(ctx, item, staff, text, files)
    if item.status == Status.under_review:
        return _("Ответ по № {number} отправлен на проверку в МЦУ. После утверждения он уйдёт заявителю.").format(
            number=item.number)
    return _("Ответ по № {number} отправлен заявителю.").format(number=item.number)


async def _not_ours(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.return_not_ours(ctx, item, staff, text)
    return _("№ {number} возвращено в МЦУ на распределение.").format(number=item.number)


async def _extend(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.request_extension(ctx, item, staff, text)
    return _("Просьба продлить срок по № {number} отправлена в МЦУ; о решении сообщим.").format(number=item.number)


async def _rework(ctx: LifecycleContext, item: Item, staff: Staff, text: str, files: list[FileIn]) -> str:
    await lifecycle.return_for_rework(ctx, item, staff, text)
    return _("Ответ по № {number} возвращён исполнителю на доработку.").format(number=item.number)


async def _reply(ctx: LifecycleContext, item: Item, citizen: Citizen, text: str, files: list[FileIn]) -> str:
    await lifecycle.citizen_reply(ctx, item, citizen, text, files)
    return _("Спасибо! Ваш ответ по обращению № {number} передан исполнителю.").format(number=item.number)


SPECS: dict[str, DraftSpec] = {
    "ask": DraftSpec(lambda n: _(
        "Напишите вопрос заявителю по № {number} одним сообщением. Бот передаст его, не раскрывая "
        "ничьих контактов.").format(number=n), _ask),
    "interim": DraftSpec(lambda n: _(
        "Напишите промежуточный ответ по № {number}: что уже сделано и когда ждать результата. "
        "Файлы можно будет приложить следующим шагом.").format(number=n), _interim, files=True),
    "answer": DraftSpec(lambda n: _(
        "Напишите ответ заявителю по № {number}. Фото и документы можно будет приложить следующим "
        "шагом.").format(number=n), _answer, files=True, confirm=True),
    "notours": DraftSpec(lambda n: _(
        "Почему № {number} не относится к вашей организации? Напишите причину — МЦУ направит обращение "
        "другому исполнителю.").format(number=n), _not_ours),
    "extend": DraftSpec(lambda n: _(
        "Почему по № {number} нужно больше времени? Напишите причину — МЦУ решит, продлевать ли срок "
        "(по 59-ФЗ — один раз, не более чем на 30 дней).").format(number=n), _extend),
    "rework": DraftSpec(lambda n: _(
        "Что исправить в ответе по № {number}? Напишите замечание — исполнитель получит его вместе с "
        "обращением.").format(number=n), _rework),
    "reply": DraftSpec(lambda n: _(
        "Напишите ответ на вопрос по обращению № {number}: текстом, фото или документом.").format(number=n),
        _reply, files=True, citizen=True),
}


# --- keyboards ---------------------------------------------------------------------------------------


def _keyboard(token: int, *steps: tuple[str, str]) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for step, text in steps:
        kb.button(text=text, callback_data=DraftCb(step=step, draft=token))
    kb.adjust(len(steps) if len(steps) < 3 else 1)
    return kb.as_markup()


def cancel_keyboard(token: int) -> InlineKeyboardMarkup:
    return _keyboard(token, ("cancel", _("Отменить")))


def files_keyboard(token: int, spec: DraftSpec) -> InlineKeyboardMarkup:
    done = _("Готово") if spec.confirm else _("Отправить")
    return _keyboard(token, ("done", done), ("cancel", _("Отменить")))


def confirm_keyboard(token: int) -> InlineKeyboardMarkup:
    return _keyboard(token, ("send", _("Отправить")), ("edit", _("Изменить текст")), ("cancel", _("Отменить")))


# --- starting and reading a draft ------------------------------------------------------------------


async def start_draft(query: CallbackQuery, state: FSMContext, action: str, item: Item) -> None:
    token = secrets.randbelow(2**31 - 2) + 1
    await state.set_state(Draft.text)
    await state.set_data({"draft": token, "action": action, "item_id": item.id, "number": item.number,
                          "text": "", "files": []})
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(SPECS[action].prompt(item.number), reply_markup=cancel_keyboard(token))


def _files_prompt(spec: DraftSpec, count: int) -> str:
    if spec.citizen:
        return _("Получено файлов: {count}. Можно добавить ещё файлы или пояснение текстом, затем нажмите "
                 "«Отправить».").format(count=count)
    if count:
        return _("Файлов приложено: {count}. Добавьте ещё или нажмите «{done}».").format(
            count=count, done=_("Готово") if spec.confirm else _("Отправить"))
    return _("Приложите фото или документы (по одному или альбомом) и нажмите «{done}». Если файлов нет — "
             "сразу «{done}».").format(done=_("Готово") if spec.confirm else _("Отправить"))


def _take(message: Message, spec: DraftSpec, have: int) -> tuple[str, list[FileIn], str | None]:
    """The text and files of one message, or the reason they cannot be taken."""
    text = (message.text or message.caption or "").strip()
    files: list[FileIn] = []
    if message.photo:
        best = message.photo[-1]
        files.append(FileIn("photo", best.file_id, best.file_unique_id, None, "image/jpeg", best.file_size))
    elif message.document:
        doc = message.document
        if doc.file_size and doc.file_size > MAX_FILE_SIZE:
            return "", [], _("Файл «{name}» больше 20 МБ — такой бот сохранить не может. Сожмите его или "
                             "разделите на части и пришлите снова.").format(name=escape(doc.file_name or "?"))
        files.append(FileIn("document", doc.file_id, doc.file_unique_id, doc.file_name, doc.mime_type,
                            doc.file_size))
    elif not message.text:
        if spec.files:
            return "", [], _("Сюда можно прислать текст, фото или документ.")
        return "", [], _("Здесь нужен текст.")
    if files and not spec.files:
        return "", [], _("К этому шагу файлы не прикладываются: напишите текст.")
    if have + len(files) > MAX_FILES:
        return "", [], _("Больше {limit} файлов приложить нельзя.").format(limit=MAX_FILES)
    return text, files, None


def _joined(before: str, more: str) -> str:
    return f"{before}\n\n{more}" if before and more else before or more


# --- the steps -----------------------------------------------------------------------------------------


async def on_text_step(message: Message, state: FSMContext, session: AsyncSession, staff: Staff | None,
                       citizen: Citizen | None, settings: Settings, now: datetime,
                       deadline_cache: DeadlineContextCache) -> None:
    data = await state.get_data()
    spec = SPECS[data["action"]]
    text, files, problem = _take(message, spec, len(data["files"]))
    if problem:
        await message.answer(problem, reply_markup=cancel_keyboard(data["draft"]))
        return
    data["text"] = _joined(data["text"], text)
    data["files"] = data["files"] + [asdict(f) for f in files]
    if spec.citizen and not files:
        await finish(message, state, data, session, staff, citizen, settings, now, deadline_cache)
        return
    if not spec.citizen and not data["text"]:
        await state.set_data(data)
        await message.answer(_("Файл добавлен. Теперь напишите текст."), reply_markup=cancel_keyboard(data["draft"]))
        return
    if spec.files:
        await state.set_state(Draft.files)
        await state.set_data(data)
        await message.answer(_files_prompt(spec, len(data["files"])), reply_markup=files_keyboard(data["draft"], spec))
        return
    await finish(message, state, data, session, staff, citizen, settings, now, deadline_cache)


async def on_files_step(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    spec = SPECS[data["action"]]
    text, files, problem = _take(message, spec, len(data["files"]))
    if problem:
        await message.answer(problem, reply_markup=files_keyboard(data["draft"], spec))
        return
    data["text"] = _joined(data["text"], text)
    data["files"] = data["files"] + [asdict(f) for f in files]
    await state.set_data(data)
    note = _("Текст дополнен.") + " " if text else ""
    await message.answer(note + _files_prompt(spec, len(data["files"])), reply_markup=files_keyboard(data["draft"], spec))


async def on_confirm_step(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    await message.answer(_("Черновик готов: нажмите «Отправить», «Изменить текст» или «Отменить»."),
                         reply_markup=confirm_keyboard(data["draft"]))


def _summary(data: dict[str, Any]) -> str:
    text = data["text"]
    if len(text) > EXCERPT:
        text = text[: EXCERPT - 1].rstrip() + "…"
    return (_("<b>Проверьте ответ по № {number}</b>").format(number=data["number"]) + "\n\n" + escape(text)
            + "\n\n" + _("Файлов: {count}").format(count=len(data["files"])) + "\n\n" + _("Отправить?"))


async def on_button(query: CallbackQuery, callback_data: DraftCb, state: FSMContext, session: AsyncSession,
                    staff: Staff | None, citizen: Citizen | None, settings: Settings, now: datetime,
                    deadline_cache: DeadlineContextCache) -> None:
    data = await state.get_data()
    current = await state.get_state()
    message = query.message if isinstance(query.message, Message) else None
    if current not in Draft.__all_states_names__ or data.get("draft") != callback_data.draft:
        await query.answer(_("Этот черновик уже закрыт."), show_alert=True)
        if message is not None and message.reply_markup is not None:
            await message.edit_reply_markup(reply_markup=None)
        return
    spec = SPECS[data["action"]]
    step = callback_data.step
    if step == "cancel":
        await state.clear()
        await query.answer()
        if message is not None:
            await message.edit_text(_("Отменено: ничего не отправлено и не изменено."))
        return
    if step == "edit" and current != Draft.text.state:
        data["text"] = ""
        await state.set_state(Draft.text)
        await state.set_data(data)
        await query.answer()
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            await message.answer(_("Напишите текст заново; приложенные файлы сохранятся."),
                                 reply_markup=cancel_keyboard(data["draft"]))
        return
    if step == "done" and current == Draft.files.state and spec.confirm:
        await state.set_state(Draft.confirm)
        await query.answer()
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            await message.answer(_summary(data), reply_markup=confirm_keyboard(data["draft"]))
        return
    if (step == "done" and current == Draft.files.state) or (step == "send" and current == Draft.confirm.state):
        await query.answer()
        if message is not None:
            await message.edit_reply_markup(reply_markup=None)
            await finish(message, state, data, session, staff, citizen, settings, now, deadline_cache)
        return
    await query.answer(_("Эта кнопка сейчас не действует."), show_alert=True)


async def cancel_command(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Отменено: ничего не отправлено и не изменено."))


async def finish(target: Message, state: FSMContext, data: dict[str, Any], session: AsyncSession,
                 staff: Staff | None, citizen: Citizen | None, settings: Settings, now: datetime,
                 deadline_cache: DeadlineContextCache) -> None:
    """Send the draft through the lifecycle, after checking the rights again (they may have changed
    while the person typed), and tell the author how it went."""
    spec = SPECS[data["action"]]
    await state.clear()
    item = await load_item(session, data["item_id"])
    if item is None or not allowed(data["action"], item, staff, citizen):
        await target.answer(refusal(data["action"], staff) if item else _("Обращение не найдено."))
        return
    ctx = await context(session, settings, now, deadline_cache)
    author = citizen if spec.citizen else staff
    files = [FileIn(**f) for f in data["files"]]
    done, error = await perform(session, lambda: spec.send(ctx, item, author, data["text"], files))
    if error is not None or done is None:
        await target.answer(_("Не отправлено.") + " " + (error or ""))
        return
    keyboard = None if spec.citizen or staff is None else await buttons_now(ctx, item, staff)
    await target.answer(done, reply_markup=keyboard)


def make_router() -> Router:
    router = Router(name="drafts")
    router.message.register(cancel_command, StateFilter(Draft), Command("cancel"))
    # Commands pass through to their own handlers; the draft waits.
    not_command = ~F.text.startswith("/")
    router.message.register(on_text_step, StateFilter(Draft.text), not_command)
    router.message.register(on_files_step, StateFilter(Draft.files), not_command)
    router.message.register(on_confirm_step, StateFilter(Draft.confirm), not_command)
    router.callback_query.register(on_button, DraftCb.filter())
    return router

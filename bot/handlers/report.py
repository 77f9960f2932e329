"""`/report`: the centre's figures for a period and a scope, as a summary, an album of three charts
and a spreadsheet.

Who sees what is `core.reports.scope_for`: the curator, the head and the analyst choose any scope
(the whole centre, a topic, a settlement, an organisation, a channel); a channel's officer gets
that channel; a recipient its own organisation; anybody else is refused. Period buttons first
(or dates typed), then the scope, then the work: a progress message edited stage by stage with a
chat action, the summary, the album, the document. `/report month` or `/report 01.11-15.11` skips
the buttons.

The chosen period travels inside the scope buttons, so the dialogue keeps no state but while dates
are being typed; every press is checked again (rights, dates, ids), a forged or stale one answered
politely. The figures are read off the event loop (`core.report_output`), and the update's
transaction is committed by the first reply, so no database connection waits on the drawing.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date, datetime
from html import escape

from aiogram import Bot, F, Router
from aiogram.enums import ChatAction
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
)
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ReportPeriodCb, ReportScopeCb
from bot.handlers.staff import staff_only
from core import report_output
from core.i18n import gettext_for
from core.registration import channel_label
from core.report_model import Period, Scope
from core.report_text import album_caption, document_caption, period_text
from core.reports import (
    ReportInputError,
    narrow_scope,
    parse_dates,
    period_between,
    period_for,
    report_sessionmaker,
    scope_for,
)
from core.settings import Settings
from db.models import Channel, Organisation, Settlement, Staff, Topic

log = logging.getLogger(__name__)

PAGE = 10  # settlements and organisations per page
NAME_LIMIT = 32
PERIOD_WORDS = {
    "today": "today", "сегодня": "today", "week": "week", "неделя": "week", "неделю": "week",
    "month": "month", "месяц": "month", "quarter": "quarter", "квартал": "quarter",
    "last_month": "last_month", "прошлый месяц": "last_month", "year": "year", "год": "year",
}
CANCEL_WORDS = frozenset({"отменить", "отмена", "cancel"})
LISTS = ("topic", "settlement", "organisation", "channel")


class ReportDates(StatesGroup):
    waiting = State()


# --- texts and keyboards ---------------------------------------------------------------------------------


def _core_gettext() -> Callable[[str], str]:
    """The renderers in core/ take a plain gettext in the reader's language."""
    return gettext_for(get_i18n().current_locale)


def _refusal(staff: Staff | None) -> str:
    if staff is None:
        return staff_only()
    return _("Отчёты доступны куратору, руководителю, аналитику, ответственным за ПОС и «Инцидент менеджмент», "
             "а исполнителям — по своей организации. Вашим ролям отчёт недоступен.")


def _short(name: str, limit: int = NAME_LIMIT) -> str:
    name = " ".join(name.split())
    return name if len(name) <= limit else name[:limit - 1].rstrip() + "…"


def _period_keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for kind, text in (("today", _("Сегодня")), ("week", _("Неделя")), ("month", _("Месяц")),
                       ("quarter", _("Квартал")), ("last_month", _("Прошлый месяц")),
                       ("dates", _("Другие даты…"))):
        kb.button(text=text, callback_data=ReportPeriodCb(kind=kind))
    kb.button(text=_("✖ Отменить"), callback_data=ReportPeriodCb(kind="cancel"))
    kb.adjust(2, 2, 2, 1)
    return kb.as_markup()


def _period_question() -> str:
    return _("📊 <b>Отчёт МЦУ</b>\nЗа какой период?")


def _dates_question() -> str:
    return _("Напишите период, например: <code>01.11.2026-30.11.2026</code>, <code>1.11-15.11</code>, "
             "<code>05.11.2026</code> (один день) или «ноябрь 2026». Передумали — /cancel.")


def _cb(period: Period, what: str, value: str = "", page: int = 0) -> str:
    return ReportScopeCb(start=period.start.strftime("%Y%m%d"), end=period.end.strftime("%Y%m%d"), what=what,
                         value=value, page=page).pack()


def _button(text: str, period: Period, what: str, value: str = "", page: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=_cb(period, what, value, page))


def _scope_menu(period: Period, allowed: Scope) -> tuple[str, InlineKeyboardMarkup]:
    text = _("📊 <b>Отчёт за {period}</b>\nЧто включить в отчёт?").format(period=period_text(period))
    if allowed.channels:  # an officer of several channels: one of them, or all of them
        rows = [[_button(_("Все мои каналы"), period, "all")]]
        rows += [[_button(channel_label(c, _), period, "channel", c)] for c in allowed.channels]
    else:
        rows = [[_button(_("Весь МЦУ"), period, "all")],
                [_button(_("Тематика"), period, "topic"), _button(_("Поселение"), period, "settlement")],
                [_button(_("Организация"), period, "organisation"), _button(_("Канал"), period, "channel")]]
    rows.append([_button(_("« Другой период"), period, "period")])
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _choices(session: AsyncSession, what: str) -> list[tuple[str, str]]:
    """(value, button text) of a list, in display order."""
    if what == "topic":
        english = get_i18n().current_locale == "en"
        topics = await session.scalars(select(Topic).order_by(Topic.sort, Topic.id))
        return [(str(t.id), t.name_en if english else t.name_ru) for t in topics]
    if what == "settlement":
        rows = await session.execute(select(Settlement.id, Settlement.name).where(Settlement.is_active.is_(True))
                                     .order_by(Settlement.name))
        return [(str(i), name) for i, name in rows]
    if what == "organisation":
        rows = await session.execute(select(Organisation.id, Organisation.name, Organisation.short_name)
                                     .where(Organisation.is_active.is_(True)).order_by(Organisation.name))
        return [(str(i), short or name) for i, name, short in rows]
    return [(c.value, channel_label(c.value, _)) for c in Channel]


def _list_title(what: str) -> str:
    return {"topic": _("Выберите тематику:"), "settlement": _("Выберите поселение:"),
            "organisation": _("Выберите организацию:"), "channel": _("Выберите канал:")}[what]


async def _list_view(session: AsyncSession, period: Period, what: str, page: int) -> tuple[str, InlineKeyboardMarkup]:
    choices = await _choices(session, what)
    pages = max(1, (len(choices) + PAGE - 1) // PAGE)
    page = min(max(page, 0), pages - 1)
    shown = choices[page * PAGE:(page + 1) * PAGE]
    buttons = [_button(_short(text), period, what, value) for value, text in shown]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    nav = [_button(_("« Назад"), period, "menu")]
    if page > 0:
        nav.append(_button(_("‹ Пред."), period, what, page=page - 1))
    if page < pages - 1:
        nav.append(_button(_("След. ›"), period, what, page=page + 1))
    rows.append(nav)
    text = _("📊 <b>Отчёт за {period}</b>\n{question}").format(period=period_text(period), question=_list_title(what))
    if pages > 1:
        text += " " + _("(стр. {page} из {pages})").format(page=page + 1, pages=pages)
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def _leave_dates(state: FSMContext) -> None:
    """Forget the typed-dates step; another dialogue the person is in (/new …) stays where it was."""
    if await state.get_state() == ReportDates.waiting.state:
        await state.clear()


def _today(settings: Settings, now: datetime) -> date:
    return now.astimezone(settings.tz).date()


# --- the command and the steps ---------------------------------------------------------------------------


async def report_command(message: Message, command: CommandObject, state: FSMContext, staff: Staff | None,
                         bot: Bot, settings: Settings, now: datetime) -> None:
    allowed = scope_for(staff)
    if allowed is None:
        await message.answer(_refusal(staff))
        return
    await _leave_dates(state)
    args = " ".join((command.args or "").split())
    if not args:
        await message.answer(_period_question(), reply_markup=_period_keyboard())
        return
    today = _today(settings, now)
    try:
        kind = PERIOD_WORDS.get(args.lower())
        period = period_for(kind, today, settings.tz) if kind else parse_dates(args, settings.tz, today=today)
    except ReportInputError as err:
        await message.answer(escape(err.localized(_)) + "\n\n" + _period_question(), reply_markup=_period_keyboard())
        return
    # A shortcut: the whole of what the person may see, at once.
    await _run(message, None, period, allowed, bot, settings, now, staff)


async def on_period(query: CallbackQuery, callback_data: ReportPeriodCb, state: FSMContext, staff: Staff | None,
                    bot: Bot, settings: Settings, now: datetime) -> None:
    allowed = scope_for(staff)
    if allowed is None:
        await query.answer(_refusal(staff), show_alert=True)
        return
    if not isinstance(query.message, Message):
        await query.answer()
        return
    kind = callback_data.kind
    await _leave_dates(state)
    if kind == "cancel":
        await query.answer()
        await query.message.edit_text(_("Отчёт отменён."))
        return
    if kind == "dates":
        await state.set_state(ReportDates.waiting)
        await query.answer()
        await query.message.edit_text(_dates_question())
        return
    try:
        period = period_for(kind, _today(settings, now), settings.tz)
    except ReportInputError:
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    await query.answer()
    await _after_period(query.message, period, allowed, bot, settings, now, staff, edit=True)


async def on_dates(message: Message, state: FSMContext, staff: Staff | None, bot: Bot, settings: Settings,
                   now: datetime) -> None:
    allowed = scope_for(staff)
    if allowed is None:
        await state.clear()
        await message.answer(_refusal(staff))
        return
    try:
        period = parse_dates(message.text or "", settings.tz, today=_today(settings, now))
    except ReportInputError as err:
        # Another chance: the state stays until good dates or /cancel.
        await message.answer(escape(err.localized(_)) + "\n" + _("Попробуйте ещё раз или /cancel."))
        return
    await state.clear()
    await _after_period(message, period, allowed, bot, settings, now, staff, edit=False)


async def cancel_dates(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Отчёт отменён."))


async def _after_period(message: Message, period: Period, allowed: Scope, bot: Bot, settings: Settings,
                        now: datetime, staff: Staff | None, *, edit: bool) -> None:
    """The scope step for those who choose; the report at once for a forced scope."""
    if allowed.whole or allowed.channels:
        text, keyboard = _scope_menu(period, allowed)
        if edit:
            await message.edit_text(text, reply_markup=keyboard)
        else:
            await message.answer(text, reply_markup=keyboard)
        return
    await _run(message, message if edit else None, period, allowed, bot, settings, now, staff)


def _pressed_period(data: ReportScopeCb, settings: Settings, now: datetime) -> Period:
    try:
        start = datetime.strptime(data.start, "%Y%m%d").date()
        end = datetime.strptime(data.end, "%Y%m%d").date()
    except ValueError:
        raise ReportInputError("Эта кнопка больше не действует.") from None
    return period_between(start, end, settings.tz, today=_today(settings, now))


async def _wanted(session: AsyncSession, what: str, value: str, allowed: Scope) -> Scope | None:
    """The scope a press asks for, if it is one this person may ask for and it exists."""
    if what == "all":
        return Scope()
    if what == "channel":
        known = allowed.channels or tuple(c.value for c in Channel)
        return Scope(channel=value) if value in known else None
    if not allowed.whole or not value.isdigit():
        return None
    model = {"topic": Topic, "settlement": Settlement, "organisation": Organisation}[what]
    if await session.get(model, int(value)) is None:
        return None
    return Scope(**{f"{what}_id": int(value)})


async def on_scope(query: CallbackQuery, callback_data: ReportScopeCb, state: FSMContext, staff: Staff | None,
                   bot: Bot, session: AsyncSession, settings: Settings, now: datetime) -> None:
    allowed = scope_for(staff)
    if allowed is None:
        await query.answer(_refusal(staff), show_alert=True)
        return
    if not isinstance(query.message, Message) or callback_data.what not in ("menu", "period", "all", *LISTS):
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return
    try:
        period = _pressed_period(callback_data, settings, now)
    except ReportInputError as err:
        await query.answer(err.localized(_), show_alert=True)
        return
    what, value = callback_data.what, callback_data.value
    await _leave_dates(state)
    if what == "period":
        await query.answer()
        await query.message.edit_text(_period_question(), reply_markup=_period_keyboard())
        return
    if not (allowed.whole or allowed.channels) and what != "all":
        # A forced scope has no choices: a press for one was made by hand.
        await query.answer(_("Ваш отчёт — только по вашей организации или каналу."), show_alert=True)
        return
    if what == "menu":
        await query.answer()
        text, keyboard = _scope_menu(period, allowed)
        await query.message.edit_text(text, reply_markup=keyboard)
        return
    if what in LISTS and not value:
        if not allowed.whole:  # an officer of several channels has them on the menu itself
            await query.answer(_("Ваш отчёт — только по вашей организации или каналу."), show_alert=True)
            return
        await query.answer()
        text, keyboard = await _list_view(session, period, what, callback_data.page)
        await query.message.edit_text(text, reply_markup=keyboard)
        return
    wanted = await _wanted(session, what, value, allowed)
    if wanted is None:
        await query.answer(_("Такого выбора нет: список мог измениться. Откройте /report заново."), show_alert=True)
        return
    await query.answer()
    await _run(query.message, query.message, period, narrow_scope(allowed, wanted), bot, settings, now, staff)


# --- the work ----------------------------------------------------------------------------------------------


def _stage_text(period: Period, stage: str) -> str:
    texts = {report_output.FIGURES: _("Считаю показатели…"), report_output.CHARTS: _("Рисую графики…"),
             report_output.TABLE: _("Готовлю таблицу…")}
    return _("⏳ <b>Отчёт за {period}</b>\n{stage}").format(period=period_text(period), stage=texts[stage])


class _Activity:
    """The chat action of the stage in progress, repeated: Telegram shows one for five seconds, and
    a stage of a big period takes longer. A failed action never stops the report."""

    EVERY = 4.0

    def __init__(self, bot: Bot, chat_id: int) -> None:
        self.bot, self.chat_id = bot, chat_id
        self.action = ChatAction.TYPING
        self.task: asyncio.Task[None] | None = None

    async def show(self, action: ChatAction) -> None:
        self.action = action
        if self.task is not None:
            self.task.cancel()
        self.task = asyncio.create_task(self._repeat())

    async def _repeat(self) -> None:
        while True:
            with contextlib.suppress(TelegramAPIError):
                await self.bot.send_chat_action(self.chat_id, self.action)
            await asyncio.sleep(self.EVERY)

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def _run(message: Message, pressed: Message | None, period: Period, scope: Scope, bot: Bot,
               settings: Settings, now: datetime, staff: Staff | None) -> None:
    """Progress in one message (the pressed one, or a new one), then the summary in its place,
    the album and the spreadsheet."""
    chat_id = message.chat.id
    progress: Message | None = None
    if pressed is not None:
        try:
            await pressed.edit_text(_stage_text(period, report_output.FIGURES))
            progress = pressed
        except TelegramBadRequest as err:
            if "not modified" in err.message:  # a double tap: the first press is already at work
                return
    if progress is None:
        progress = await message.answer(_stage_text(period, report_output.FIGURES))
    shown = progress
    actions = {report_output.FIGURES: ChatAction.TYPING, report_output.CHARTS: ChatAction.UPLOAD_PHOTO,
               report_output.TABLE: ChatAction.UPLOAD_DOCUMENT}
    activity = _Activity(bot, chat_id)

    async def advance(stage: str) -> None:
        await activity.show(actions[stage])
        if stage != report_output.FIGURES:
            with contextlib.suppress(TelegramBadRequest):  # the message was deleted: the work goes on
                await shown.edit_text(_stage_text(period, stage))

    core_ = _core_gettext()
    try:
        output = await report_output.produce(report_sessionmaker(settings), period, scope, now=now, _=core_,
                                             progress=advance)
    except Exception:
        log.exception("report for staff id=%s failed", staff.id if staff else None)
        await message.answer(_("Не удалось построить отчёт: внутренняя ошибка. Попробуйте позже или "
                               "обратитесь к администратору."))
        return
    finally:
        activity.stop()
    try:
        await shown.edit_text(output.html)
    except TelegramBadRequest:  # the progress message is gone: the summary comes as a new one
        await message.answer(output.html)
    caption = album_caption(output.report, core_)
    await bot.send_media_group(chat_id, [
        InputMediaPhoto(media=BufferedInputFile(png, filename=name), caption=caption if n == 0 else None)
        for n, (name, png) in enumerate(output.charts)])
    assert output.xlsx is not None
    await bot.send_document(chat_id, BufferedInputFile(output.xlsx, filename=output.xlsx_name),
                            caption=document_caption(output.report, core_))
    log.info("report %s..%s sent to staff id=%s", period.start, period.end, staff.id if staff else None)


def make_router() -> Router:
    router = Router(name="report")
    router.message.register(report_command, Command("report"))
    router.message.register(cancel_dates, Command("cancel"), ReportDates.waiting)
    router.message.register(cancel_dates, ReportDates.waiting, F.text.lower().in_(CANCEL_WORDS))
    router.message.register(on_dates, ReportDates.waiting, F.text, ~F.text.startswith("/"))
    router.callback_query.register(on_period, ReportPeriodCb.filter())
    router.callback_query.register(on_scope, ReportScopeCb.filter())
    return router

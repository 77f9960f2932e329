"""The satisfaction survey in the citizen's chat (core/surveys.py): one tap records the answer;
then a score of 1–5 and, if the citizen wants, a comment. «Нет» and «Частично» ask what is still
wrong, and those words reopen the item.

Typing the reason or a comment is a short FSM step entered only by the citizen's own tap. It
remembers the state it interrupted (say, the intake dialogue) and returns there; it waits a day,
after which a text is not taken for the survey and the citizen is told so.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import SurveyCb
from core import surveys
from core.deadlines import DeadlineContextCache
from core.lifecycle import LifecycleContext, TransitionError, lifecycle_context
from core.settings import Settings
from core.surveys import Answer, Reply
from db.models import Citizen, Status

log = logging.getLogger(__name__)


class SurveyText(StatesGroup):
    reason = State()
    comment = State()


STEP = "survey_step"
WRITE_WAIT = timedelta(days=1)
MINE = (SurveyText.reason.state, SurveyText.comment.state)


def _button(text: str, action: str, survey_id: int, value: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=SurveyCb(action=action, survey_id=survey_id,
                                                                  value=value).pack())


def score_keyboard(survey_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_button(str(n), "s", survey_id, str(n)) for n in surveys.SCORES]])


def score_question() -> str:
    return _("Оцените, пожалуйста, работу исполнителя от 1 до 5:")


def reason_prompt() -> str:
    return _("Напишите одним сообщением, что осталось нерешённым: мы возобновим работу по обращению "
             "и передадим ваши слова исполнителю.")


def refusal(answer: Answer) -> str:
    if answer.reply is Reply.already:
        return _("Ваш ответ уже учтён. Спасибо!")
    if answer.reply is Reply.not_yours:
        return _("Этот опрос адресован другому человеку.")
    if answer.reply is Reply.stale and answer.item is not None:
        return _("Опрос по обращению № {number} больше не действует: по нему уже идёт новая работа "
                 "или дан новый ответ. Спасибо!").format(number=answer.item.number)
    return _("Эта кнопка больше не действует.")


async def _refuse(query: CallbackQuery, answer: Answer, citizen: Citizen) -> None:
    if answer.reply is Reply.not_yours and answer.survey is not None:
        # Ids only: enough to look into a forged press, no names or texts.
        log.info("refused survey press on survey id=%s by citizen id=%s", answer.survey.id, citizen.id)
    await query.answer(refusal(answer), show_alert=True)


async def _ctx(session: AsyncSession, settings: Settings, now: datetime,
               deadline_cache: DeadlineContextCache) -> LifecycleContext:
    return await lifecycle_context(session, settings, now, deadline_cache)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest:  # too old to edit, or unchanged: say it in a new message
        await query.message.answer(text, reply_markup=markup)


async def _enter(state: FSMContext, target: State, survey_id: int, now: datetime) -> None:
    current = await state.get_state()
    step = (await state.get_data()).get(STEP) or {}
    back = step.get("back") if current in MINE else current
    await state.update_data({STEP: {"id": survey_id, "back": back, "at": now.isoformat()}})
    await state.set_state(target)


async def _leave(state: FSMContext) -> None:
    step = (await state.get_data()).get(STEP) or {}
    await state.update_data({STEP: None})
    await state.set_state(step.get("back"))


async def on_resolved(query: CallbackQuery, callback_data: SurveyCb, session: AsyncSession, citizen: Citizen,
                      state: FSMContext, settings: Settings, now: datetime,
                      deadline_cache: DeadlineContextCache) -> None:
    ctx = await _ctx(session, settings, now, deadline_cache)
    sid, value = callback_data.survey_id, callback_data.value
    try:
        async with session.begin_nested():
            answer = await surveys.answer_resolved(ctx, sid, citizen, value)
    except TransitionError as err:
        await query.answer(err.localized(_), show_alert=True)
        return
    if answer.reply is not Reply.recorded or answer.item is None:
        await _refuse(query, answer, citizen)
        return
    item = answer.item
    head = _("№ {number}: решена ли проблема? — <b>{answer}</b>").format(
        number=item.number, answer=surveys.resolved_label(value, _))
    if value == "yes":
        closed_now = item.status == Status.closed and item.closed_at == now
        text = "\n".join([head, _("Спасибо! Обращение закрыто.") if closed_now else _("Спасибо!"), "",
                          score_question()])
        markup = score_keyboard(sid)
    else:
        await _enter(state, SurveyText.reason, sid, now)
        text = head + "\n\n" + reason_prompt()
        markup = InlineKeyboardMarkup(inline_keyboard=[[_button(_("Не сейчас"), "x", sid, "reason")]])
    await session.commit()
    await query.answer(_("Ответ записан."))
    await _edit(query, text, markup)


async def on_score(query: CallbackQuery, callback_data: SurveyCb, session: AsyncSession, citizen: Citizen,
                   settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    ctx = await _ctx(session, settings, now, deadline_cache)
    sid = callback_data.survey_id
    score = int(callback_data.value) if callback_data.value.isdigit() else 0
    answer = await surveys.give_score(ctx, sid, citizen, score)
    if answer.reply is not Reply.recorded or answer.survey is None:
        await _refuse(query, answer, citizen)
        return
    await session.commit()
    text = _("Ваша оценка: {score} из 5. Спасибо!").format(score=score)
    markup = None
    if answer.survey.resolved == "yes" and answer.survey.comment is None:
        text += "\n\n" + _("Хотите что-нибудь добавить?")
        markup = InlineKeyboardMarkup(inline_keyboard=[[_button(_("Написать комментарий"), "w", sid, "comment"),
                                                        _button(_("Пропустить"), "x", sid, "comment")]])
    await query.answer()
    await _edit(query, text, markup)


async def on_write(query: CallbackQuery, callback_data: SurveyCb, session: AsyncSession, citizen: Citizen,
                   state: FSMContext, settings: Settings, now: datetime,
                   deadline_cache: DeadlineContextCache) -> None:
    ctx = await _ctx(session, settings, now, deadline_cache)
    sid, what = callback_data.survey_id, callback_data.value
    answer = await surveys.writable(ctx, sid, citizen, what)
    if answer.reply is not Reply.recorded:
        await _refuse(query, answer, citizen)
        return
    reason = what == "reason"
    await _enter(state, SurveyText.reason if reason else SurveyText.comment, sid, now)
    await session.commit()
    await query.answer()
    text = reason_prompt() if reason else _("Напишите комментарий одним сообщением.")
    cancel = _("Не сейчас") if reason else _("Отменить")
    await _edit(query, text, InlineKeyboardMarkup(inline_keyboard=[[_button(cancel, "x", sid, what)]]))


async def on_not_now(query: CallbackQuery, callback_data: SurveyCb, session: AsyncSession, citizen: Citizen,
                     state: FSMContext, settings: Settings, now: datetime,
                     deadline_cache: DeadlineContextCache) -> None:
    ctx = await _ctx(session, settings, now, deadline_cache)
    sid, what = callback_data.survey_id, callback_data.value
    answer = await surveys.writable(ctx, sid, citizen, what)
    if answer.reply is Reply.not_yours:
        await _refuse(query, answer, citizen)
        return
    step = (await state.get_data()).get(STEP) or {}
    if await state.get_state() in MINE and step.get("id") == sid:
        await _leave(state)
    await session.commit()
    await query.answer()
    if what == "reason" and answer.reply is Reply.recorded:
        await _edit(query, _("Хорошо. Пояснение можно написать позже — нажмите кнопку ниже."),
                    InlineKeyboardMarkup(inline_keyboard=[[_button(_("Написать пояснение"), "w", sid, "reason")]]))
    else:
        await _edit(query, _("Спасибо за ответы!"))


async def on_stale_button(query: CallbackQuery) -> None:
    await query.answer(_("Эта кнопка больше не действует."), show_alert=True)


async def _step(message: Message, state: FSMContext, now: datetime) -> int | None:
    """The survey the text is for; None (and the citizen told) when the wait is over."""
    step = (await state.get_data()).get(STEP) or {}
    started = step.get("at")
    if step.get("id") is None or started is None or now - datetime.fromisoformat(started) > WRITE_WAIT:
        await _leave(state)
        await message.answer(_("Мы ждали ответ на опрос сутки, и это сообщение к нему не приложено. "
                               "Если это новая проблема, пришлите её ещё раз — она получит свой номер."))
        return None
    return int(step["id"])


async def on_reason(message: Message, session: AsyncSession, citizen: Citizen, state: FSMContext,
                    settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    sid = await _step(message, state, now)
    if sid is None:
        return
    ctx = await _ctx(session, settings, now, deadline_cache)
    try:
        async with session.begin_nested():
            answer = await surveys.give_reason(ctx, sid, citizen, message.text or "")
    except TransitionError as err:
        await _leave(state)
        await message.answer(err.localized(_))
        return
    await _leave(state)
    await session.commit()
    if answer.reply is Reply.recorded and answer.item is not None:
        await message.answer(
            _("Спасибо. Обращение № {number} возобновлено: исполнитель получит ваше пояснение, "
              "а мы проследим за ответом.").format(number=answer.item.number) + "\n\n" + score_question(),
            reply_markup=score_keyboard(sid))
    elif answer.reply is Reply.already:
        await message.answer(_("Пояснение по этому опросу уже получено, спасибо."))
    elif answer.reply is Reply.stale and answer.item is not None:
        await message.answer(_("Обращение № {number} уже снова в работе, поэтому сообщение не стало пояснением "
                               "к опросу. Чтобы дополнить обращение, откройте /my и нажмите «Дополнить».").format(
            number=answer.item.number))
    else:
        await message.answer(refusal(answer))


async def on_comment(message: Message, session: AsyncSession, citizen: Citizen, state: FSMContext,
                     settings: Settings, now: datetime, deadline_cache: DeadlineContextCache) -> None:
    sid = await _step(message, state, now)
    if sid is None:
        return
    ctx = await _ctx(session, settings, now, deadline_cache)
    answer = await surveys.give_comment(ctx, sid, citizen, message.text or "")
    await _leave(state)
    await session.commit()
    if answer.reply is Reply.recorded:
        await message.answer(_("Спасибо, комментарий сохранён."))
    else:
        await message.answer(refusal(answer))


async def on_not_text(message: Message) -> None:
    await message.answer(_("Напишите, пожалуйста, словами — одним текстовым сообщением."))


def make_router() -> Router:
    router = Router(name="survey")
    router.callback_query.register(on_resolved, SurveyCb.filter(F.action == "r"))
    router.callback_query.register(on_score, SurveyCb.filter(F.action == "s"))
    router.callback_query.register(on_write, SurveyCb.filter(F.action == "w"))
    router.callback_query.register(on_not_now, SurveyCb.filter(F.action == "x"))
    router.callback_query.register(on_stale_button, SurveyCb.filter())
    router.message.register(on_reason, StateFilter(SurveyText.reason), F.text, ~F.text.startswith("/"))
    router.message.register(on_comment, StateFilter(SurveyText.comment), F.text, ~F.text.startswith("/"))
    router.message.register(on_not_text, StateFilter(*MINE), ~F.text)
    return router

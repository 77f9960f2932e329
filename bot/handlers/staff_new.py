"""`/new`: staff register an item that came by ПОС, «Инцидент менеджмент», phone, e-mail, a visit or
from the regional ЦУР.

A dialogue in FSM states (kept in the database): channel → kind → text → for a 59-ФЗ appeal the
applicant's name and address → phone → topic → settlement → the source system's number (ПОС, ИМ)
→ summary → the number. «Отменить» (a button, /cancel or the word) leaves at any step and saves
nothing; nothing is written until «Зарегистрировать». Rights are checked on every step and press.
"""
from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import NewCb
from core.cards import due_phrase, excerpt, kind_label
from core.deadlines import DeadlineContextCache
from core.lifecycle import after_registration, lifecycle_context
from core.registration import (
    NUMBERED_CHANNELS,
    REGISTRAR_ROLES,
    STAFF_CHANNELS,
    InputError,
    channel_label,
    check_external_id,
    check_full_name,
    check_reply_address,
    find_external,
    normalize_phone,
    register_staff_item,
)
from core.settings import Settings
from core.settlements import name_key, settlement_key
from db.models import ItemKind, Role, Settlement, Staff, Topic

SETTLEMENT_BUTTONS = 20  # more than this: the official types part of the name
CANCEL_WORDS = frozenset({"отменить", "отмена", "cancel"})


class NewItem(StatesGroup):
    channel = State()
    kind = State()
    text = State()
    name = State()
    address = State()
    phone = State()
    topic = State()
    settlement = State()
    external = State()
    confirm = State()


def may_register(roles: frozenset[Role]) -> bool:
    return bool(roles & REGISTRAR_ROLES)


def refusal(staff: Staff | None) -> str:
    if staff is None:
        return _("Эта команда — для сотрудников МЦУ. Чтобы сообщить о проблеме, просто напишите её сюда.")
    return _("Регистрировать обращения из других каналов могут сотрудники МЦУ (куратор, руководитель, "
             "ответственные за ПОС, «Инцидент менеджмент» и госпаблики). Если вам нужен этот доступ, "
             "обратитесь к администратору.")


# --- keyboards ---------------------------------------------------------------------------------------


def _keyboard(buttons: list[tuple[str, NewCb]], *, width: int = 2, skip: bool = False) -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    for text, data in buttons:
        kb.button(text=text, callback_data=data)
    if skip:
        kb.button(text=_("Пропустить"), callback_data=NewCb(step="skip"))
    kb.button(text=_("Отменить"), callback_data=NewCb(step="cancel"))
    full, rest = divmod(len(buttons), width)
    kb.adjust(*[width] * full, *([rest] if rest else []), 1)  # «Пропустить» and «Отменить» alone
    return kb.as_markup()


def _cancel_only(*, skip: bool = False) -> InlineKeyboardMarkup:
    return _keyboard([], skip=skip)


# --- prompts: each sets its state and says what to send -------------------------------------------------


Prompt = tuple[str, InlineKeyboardMarkup]


async def _prompt(step: State, data: dict[str, Any], session: AsyncSession) -> Prompt:
    if step == NewItem.channel:
        buttons = [(_capital(channel_label(c, _)), NewCb(step="ch", value=c)) for c in STAFF_CHANNELS]
        return _("<b>Регистрация обращения</b>\nОткуда оно поступило?"), _keyboard(buttons)
    if step == NewItem.kind:
        buttons = [(_("Сообщение"), NewCb(step="kd", value=ItemKind.message)),
                   (_("Обращение по 59-ФЗ"), NewCb(step="kd", value=ItemKind.appeal))]
        return (_("Что это?\n• <b>Обращение по 59-ФЗ</b> — письменный ответ в течение 30 дней, нужны ФИО и адрес "
                  "заявителя.\n• <b>Сообщение</b> — быстрое решение без официального ответа."),
                _keyboard(buttons, width=1))
    if step == NewItem.text:
        return _("Пришлите текст обращения одним сообщением — как его изложил заявитель."), _cancel_only()
    if step == NewItem.name:
        return _("ФИО заявителя (для ответа по 59-ФЗ):"), _cancel_only()
    if step == NewItem.address:
        return _("Почтовый адрес или e-mail, куда направить ответ:"), _cancel_only()
    if step == NewItem.phone:
        return _("Телефон заявителя, если он известен:"), _cancel_only(skip=True)
    if step == NewItem.topic:
        english = get_i18n().current_locale == "en"
        topics = (await session.scalars(select(Topic).order_by(Topic.sort, Topic.id))).all()
        buttons = [(t.name_en if english else t.name_ru, NewCb(step="tp", value=str(t.id))) for t in topics]
        return _("Тема обращения:"), _keyboard(buttons)
    if step == NewItem.settlement:
        return await _settlement_prompt(session)
    if step == NewItem.external:
        return (_("Номер в системе «{source}» (по нему повторный импорт узнает это обращение):").format(
            source=channel_label(data["channel"], _)), _cancel_only(skip=True))
    return await _summary(data, session), _keyboard([(_("Зарегистрировать"), NewCb(step="ok"))], width=1)


async def _settlement_prompt(session: AsyncSession, found: list[Settlement] | None = None) -> Prompt:
    if found is None:
        found = list((await session.scalars(
            select(Settlement).where(Settlement.is_active.is_(True)).order_by(Settlement.name))).all())
        if len(found) > SETTLEMENT_BUTTONS:
            return (_("Населённый пункт: напишите часть названия или нажмите «Пропустить»."),
                    _cancel_only(skip=True))
        text = _("Населённый пункт (можно написать часть названия):")
    else:
        text = _("Нашлось несколько, выберите:")
    buttons = [(s.name, NewCb(step="st", value=str(s.id))) for s in found[:SETTLEMENT_BUTTONS]]
    return text, _keyboard(buttons, skip=True)


async def _summary(data: dict[str, Any], session: AsyncSession) -> str:
    english = get_i18n().current_locale == "en"
    topic = await session.get(Topic, data["topic_id"]) if data.get("topic_id") else None
    settlement = await session.get(Settlement, data["settlement_id"]) if data.get("settlement_id") else None
    lines = [_("<b>Проверьте и зарегистрируйте</b>"),
             _("Канал: {channel}").format(channel=channel_label(data["channel"], _)),
             _("Вид: {kind}").format(kind=kind_label(data["kind"], _))]
    if data.get("name"):
        lines.append(_("Заявитель: {name}").format(name=html.escape(data["name"])))
        lines.append(_("Адрес для ответа: {address}").format(address=html.escape(data["address"])))
    if data.get("phone"):
        lines.append(_("Телефон: {phone}").format(phone=html.escape(data["phone"])))
    if topic is not None:
        lines.append(_("Тема: {topic}").format(topic=html.escape(topic.name_en if english else topic.name_ru)))
    lines.append(_("Населённый пункт: {name}").format(
        name=html.escape(settlement.name) if settlement else _("не указан")))
    if data["channel"] in NUMBERED_CHANNELS:
        lines.append(_("Номер в системе-источнике: {number}").format(
            number=html.escape(data["external_id"]) if data.get("external_id") else _("не указан")))
    lines += ["", "«" + excerpt(data["text"], 1000) + "»"]
    return "\n".join(lines)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _next(step: State, data: dict[str, Any]) -> State:
    """The step after `step`, given what is known so far."""
    appeal = data.get("kind") == ItemKind.appeal
    order = [NewItem.channel, NewItem.kind, NewItem.text, NewItem.name, NewItem.address, NewItem.phone,
             NewItem.topic, NewItem.settlement, NewItem.external, NewItem.confirm]
    for candidate in order[order.index(step) + 1:]:
        if candidate in (NewItem.name, NewItem.address) and not appeal:
            continue
        if candidate == NewItem.external and data.get("channel") not in NUMBERED_CHANNELS:
            continue
        return candidate
    return NewItem.confirm


async def _advance(target: Message, state: FSMContext, session: AsyncSession, step: State, *,
                   edit: bool = False) -> None:
    """Go to the step after `step` and show its prompt (editing the pressed message, or as a reply)."""
    data = await state.get_data()
    following = _next(step, data)
    await state.set_state(following)
    text, markup = await _prompt(following, data, session)
    if edit:
        await target.edit_text(text, reply_markup=markup)
    else:
        await target.answer(text, reply_markup=markup)


async def _current(state: FSMContext) -> State | None:
    name = await state.get_state()
    return next((s for s in NewItem.__states__ if s.state == name), None)


# --- handlers ------------------------------------------------------------------------------------------


async def new_command(message: Message, state: FSMContext, session: AsyncSession, roles: frozenset[Role],
                      staff: Staff | None) -> None:
    if not may_register(roles):
        await message.answer(refusal(staff))
        return
    await state.clear()
    await state.set_state(NewItem.channel)
    text, markup = await _prompt(NewItem.channel, {}, session)
    await message.answer(text, reply_markup=markup)


async def cancel(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    text = _("Регистрация отменена, ничего не сохранено. Начать заново — /new.")
    if isinstance(event, CallbackQuery):
        await event.answer()
        if isinstance(event.message, Message):
            await event.message.edit_text(text)
        return
    await event.answer(text)


async def _guard(query: CallbackQuery, state: FSMContext, roles: frozenset[Role], staff: Staff | None) -> Message | None:
    """The pressed message, if the presser may still register; otherwise the press is answered."""
    if not may_register(roles):
        await state.clear()
        await query.answer(refusal(staff), show_alert=True)
        return None
    if not isinstance(query.message, Message):
        await query.answer(_("Эта кнопка больше не действует."), show_alert=True)
        return None
    await query.answer()
    return query.message


async def on_channel(query: CallbackQuery, callback_data: NewCb, state: FSMContext, session: AsyncSession,
                     roles: frozenset[Role], staff: Staff | None) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None:
        return
    if callback_data.value not in STAFF_CHANNELS:
        await state.clear()
        await message.edit_text(_("Такого канала нет. Начните заново — /new."))
        return
    await state.update_data(channel=callback_data.value)
    await _advance(message, state, session, NewItem.channel, edit=True)


async def on_kind(query: CallbackQuery, callback_data: NewCb, state: FSMContext, session: AsyncSession,
                  roles: frozenset[Role], staff: Staff | None) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None:
        return
    if callback_data.value not in (ItemKind.message, ItemKind.appeal):
        return
    await state.update_data(kind=callback_data.value)
    await _advance(message, state, session, NewItem.kind, edit=True)


async def on_topic(query: CallbackQuery, callback_data: NewCb, state: FSMContext, session: AsyncSession,
                   roles: frozenset[Role], staff: Staff | None) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None:
        return
    topic = await session.get(Topic, int(callback_data.value)) if callback_data.value.isdigit() else None
    if topic is None:
        await message.answer(_("Такой темы нет, выберите из списка."))
        return
    await state.update_data(topic_id=topic.id)
    await _advance(message, state, session, NewItem.topic, edit=True)


async def on_settlement(query: CallbackQuery, callback_data: NewCb, state: FSMContext, session: AsyncSession,
                        roles: frozenset[Role], staff: Staff | None) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None:
        return
    settlement = await session.get(Settlement, int(callback_data.value)) if callback_data.value.isdigit() else None
    if settlement is None or not settlement.is_active:
        await message.answer(_("Этого населённого пункта нет в справочнике, выберите другой."))
        return
    await state.update_data(settlement_id=settlement.id)
    await _advance(message, state, session, NewItem.settlement, edit=True)


async def on_skip(query: CallbackQuery, state: FSMContext, session: AsyncSession, roles: frozenset[Role],
                  staff: Staff | None) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None:
        return
    step = await _current(state)
    if step not in (NewItem.phone, NewItem.settlement, NewItem.external):
        return
    await _advance(message, state, session, step, edit=True)


async def on_text(message: Message, state: FSMContext, session: AsyncSession, roles: frozenset[Role],
                  staff: Staff | None) -> None:
    """Whatever the official types at a step: the answer to a text step, or a reminder at a button step."""
    if not may_register(roles):
        await state.clear()
        await message.answer(refusal(staff))
        return
    step = await _current(state)
    text = (message.text or "").strip()
    if text.lower() in CANCEL_WORDS:
        await cancel(message, state)
        return
    if step in (NewItem.channel, NewItem.kind, NewItem.topic, NewItem.confirm) or step is None:
        await message.answer(_("Выберите вариант кнопкой выше или нажмите «Отменить»."))
        return
    if not text:
        await message.answer(_("Пришлите, пожалуйста, текстом."))
        return
    try:
        if step == NewItem.settlement:
            await _typed_settlement(message, state, session, text)
            return
        value = await _check(step, text, await state.get_data(), session)
    except InputError as exc:
        await message.answer(_(exc.message))
        return
    await state.update_data({_FIELD[step]: value})
    await _advance(message, state, session, step)


_FIELD = {NewItem.text: "text", NewItem.name: "name", NewItem.address: "address", NewItem.phone: "phone",
          NewItem.external: "external_id"}


async def _check(step: State, text: str, data: dict[str, Any], session: AsyncSession) -> str:
    if step == NewItem.name:
        return check_full_name(text)
    if step == NewItem.address:
        return check_reply_address(text)
    if step == NewItem.phone:
        return normalize_phone(text)
    if step == NewItem.external:
        number = check_external_id(text)
        existing = await find_external(session, data["channel"], number)
        if existing is not None:
            raise InputError(_("Обращение с этим номером уже зарегистрировано: № {number}. Проверьте номер "
                               "или нажмите «Пропустить».").format(number=existing.number))
        return number
    return text


async def _typed_settlement(message: Message, state: FSMContext, session: AsyncSession, text: str) -> None:
    wanted = settlement_key(text)
    active = (await session.scalars(
        select(Settlement).where(Settlement.is_active.is_(True)).order_by(Settlement.name))).all()
    exact = [s for s in active if settlement_key(s.name) == wanted]
    found = exact or [s for s in active if wanted and wanted in name_key(s.name)]
    if len(found) == 1:
        await state.update_data(settlement_id=found[0].id)
        await _advance(message, state, session, NewItem.settlement)
        return
    if not found:
        await message.answer(_("Не нашли населённый пункт «{text}». Напишите иначе или нажмите «Пропустить».").format(
            text=html.escape(text[:100])), reply_markup=_cancel_only(skip=True))
        return
    reply, markup = await _settlement_prompt(session, found)
    await message.answer(reply, reply_markup=markup)


async def on_confirm(query: CallbackQuery, state: FSMContext, session: AsyncSession, roles: frozenset[Role],
                     staff: Staff | None, settings: Settings, now: datetime,
                     deadline_cache: DeadlineContextCache) -> None:
    message = await _guard(query, state, roles, staff)
    if message is None or staff is None:
        return
    data = await state.get_data()
    external_id = data.get("external_id")
    if external_id:
        existing = await find_external(session, data["channel"], external_id)
        if existing is not None:  # imported while the official was typing
            await state.clear()
            await message.edit_text(_("Обращение с номером {external} уже зарегистрировано: № {number}. "
                                      "Ничего не добавлено.").format(external=html.escape(external_id),
                                                                       number=existing.number))
            return
    ctx = await lifecycle_context(session, settings, now, deadline_cache)
    item = await register_staff_item(
        session, channel=data["channel"], kind=data["kind"], text=data["text"], received_at=now,
        staff_id=staff.id, now=now, tz=ctx.tz, deadlines=ctx.deadlines, topic_id=data.get("topic_id"),
        settlement_id=data.get("settlement_id"), applicant_name=data.get("name"),
        reply_address=data.get("address"), phone=data.get("phone"), external_id=external_id,
    )
    await after_registration(ctx, item)
    await state.clear()
    await session.commit()
    await message.edit_text(
        _("Зарегистрировано: <b>№ {number}</b> ({kind}).").format(number=item.number, kind=kind_label(item.kind, _))
        + "\n" + _("Срок ответа: {due}").format(due=due_phrase(item.due_answer_at, now, settings.tz, _))
        + "\n\n" + _("Ещё одно — /new.")
    )


def make_router() -> Router:
    router = Router(name="staff_new")
    router.message.register(new_command, Command("new"))
    router.message.register(cancel, Command("cancel"), StateFilter(NewItem))
    router.callback_query.register(cancel, NewCb.filter(F.step == "cancel"), StateFilter(NewItem))
    router.callback_query.register(on_channel, NewCb.filter(F.step == "ch"), NewItem.channel)
    router.callback_query.register(on_kind, NewCb.filter(F.step == "kd"), NewItem.kind)
    router.callback_query.register(on_topic, NewCb.filter(F.step == "tp"), NewItem.topic)
    router.callback_query.register(on_settlement, NewCb.filter(F.step == "st"), NewItem.settlement)
    router.callback_query.register(on_skip, NewCb.filter(F.step == "skip"), StateFilter(NewItem))
    router.callback_query.register(on_confirm, NewCb.filter(F.step == "ok"), NewItem.confirm)
    # Other commands (/help, /report …) pass through; the dialogue stays where it was.
    router.message.register(on_text, StateFilter(NewItem), ~F.text.startswith("/"))
    return router

"""The citizen: consent, intake of what they send, /my."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ConsentCb
from bot.handlers.common import consent_text
from bot.keyboards import consent_keyboard
from bot.texts import excerpt, item_line
from core.citizens import give_consent, set_phone, withdraw_consent
from core.deadlines import DeadlineContextCache
from core.intake import FileIn, Incoming, add_to_item, citizen_items, latest_open_item, register_bot_message
from core.settings import Settings
from db.models import Citizen


# Messages kept while the citizen has not yet answered the consent question.
PENDING_KEY = "pending_before_consent"
PENDING_LIMIT = 20

ACCEPTED = F.text | F.photo | F.document | F.voice | F.audio | F.video | F.location


def incoming_from(message: Message) -> Incoming:
    files: list[FileIn] = []
    if message.photo:
        best = message.photo[-1]
        files.append(FileIn("photo", best.file_id, best.file_unique_id, None, "image/jpeg", best.file_size))
    for kind in ("document", "voice", "audio", "video"):
        media = getattr(message, kind)
        if media is not None:
            files.append(
                FileIn(kind, media.file_id, media.file_unique_id, getattr(media, "file_name", None),
                       getattr(media, "mime_type", None), media.file_size)
            )
    location = message.location
    return Incoming(
        text=message.text or message.caption or "",
        files=tuple(files),
        latitude=location.latitude if location else None,
        longitude=location.longitude if location else None,
        tg_chat_id=message.chat.id,
        tg_message_id=message.message_id,
        media_group_id=message.media_group_id,
    )


def _incoming_from_dict(raw: dict[str, Any]) -> Incoming:
    files = tuple(FileIn(**f) for f in raw.pop("files", []))
    return Incoming(files=files, **raw)


async def my_items(message: Message, session: AsyncSession, citizen: Citizen, settings: Settings) -> None:
    items, total = await citizen_items(session, citizen.id)
    if not items:
        await message.answer(_("У вас пока нет сообщений. Опишите проблему — и она получит номер."))
        return
    tz = settings.tz
    lines = [item_line(i, i.received_at.astimezone(tz).strftime("%d.%m.%Y")) for i in items]
    header = _("<b>Ваши сообщения</b> (последние {shown} из {total}):").format(shown=len(items), total=total)
    await message.answer(header + "\n\n" + "\n\n".join(lines))


async def consent_answer(
    query: CallbackQuery,
    callback_data: ConsentCb,
    session: AsyncSession,
    citizen: Citizen,
    state: FSMContext,
    settings: Settings,
    now: datetime,
    deadline_cache: DeadlineContextCache,
) -> None:
    pending = (await state.get_data()).get(PENDING_KEY, [])
    if not callback_data.agree:
        withdraw_consent(citizen, now)
        await session.commit()
        await state.update_data({PENDING_KEY: []})
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(
                _("Без согласия мы не можем принять сообщение: в нём ваши персональные данные. "
                  "Если передумаете, нажмите /start. Позвонить в администрацию можно и без бота.")
            )
        return
    give_consent(citizen, now)
    numbers = []
    for raw in pending:
        result = await register_bot_message(session, citizen, _incoming_from_dict(dict(raw)), now, settings.tz,
                                              deadlines=await deadline_cache.get(session))
        if result.created:
            numbers.append(result.item.number)
    await session.commit()
    await state.update_data({PENDING_KEY: []})
    await query.answer(_("Спасибо!"))
    if isinstance(query.message, Message):
        # Keep the greeting readable; only its buttons go.
        await query.message.edit_reply_markup(reply_markup=None)
        if numbers:
            await query.message.answer(
                _("Спасибо, согласие получено.") + "\n\n"
                + _("Сообщения, которые вы прислали раньше, зарегистрированы: {numbers}. Статус — /my.").format(
                    numbers=", ".join(f"<b>№ {n}</b>" for n in numbers)
                )
            )
        else:
            await query.message.answer(
                _("Спасибо, согласие получено.") + "\n\n" + _("Опишите, что случилось, — одним сообщением.")
            )


async def stop(message: Message, session: AsyncSession, citizen: Citizen, state: FSMContext,
               now: datetime) -> None:
    """Withdraw consent (152-ФЗ): nothing new is taken until the citizen agrees again."""
    withdraw_consent(citizen, now)
    await session.commit()
    await state.update_data({PENDING_KEY: []})
    await message.answer(
        _("Согласие отозвано. Новые сообщения мы не примем, пока вы снова не дадите согласие (/start). "
          "Уже поданные сообщения будут рассмотрены до конца.")
    )


async def contact(message: Message, session: AsyncSession, citizen: Citizen) -> None:
    if not citizen.has_consent:
        await message.answer(consent_text(), reply_markup=consent_keyboard())
        return
    if message.contact and message.contact.user_id not in (None, message.from_user.id if message.from_user else None):
        await message.answer(_("Пришлите, пожалуйста, свой номер телефона, а не чужой контакт."))
        return
    set_phone(citizen, message.contact.phone_number if message.contact else "")
    await session.commit()
    await message.answer(_("Телефон сохранён: по нему с вами смогут связаться по вашему сообщению."))


async def intake(
    message: Message,
    session: AsyncSession,
    citizen: Citizen,
    state: FSMContext,
    settings: Settings,
    now: datetime,
    throttled: bool,
    throttle_notice: bool,
    deadline_cache: DeadlineContextCache,
) -> None:
    incoming = incoming_from(message)
    if not citizen.has_consent:
        await _hold_until_consent(message, state, incoming)
        return
    if throttled:
        await _keep_quietly(message, session, citizen, incoming, settings, now, throttle_notice, deadline_cache)
        return
    result = await register_bot_message(session, citizen, incoming, now, settings.tz,
                                        deadlines=await deadline_cache.get(session))
    await session.commit()
    if not result.created:
        return  # an album part or a redelivery: the first part was answered
    item = result.item
    text = _("Сообщение зарегистрировано под номером <b>№ {number}</b>.").format(number=item.number)
    if incoming.text:
        text += "\n«" + excerpt(incoming.text) + "»"
    text += "\n\n" + _("Мы передадим его ответственным и сообщим об ответе. Статус — /my.")
    await message.answer(text)


async def _hold_until_consent(message: Message, state: FSMContext, incoming: Incoming) -> None:
    data = await state.get_data()
    pending = list(data.get(PENDING_KEY, []))
    if len(pending) < PENDING_LIMIT:
        pending.append(asdict(incoming))
        await state.update_data({PENDING_KEY: pending})
    if len(pending) == 1 or len(pending) >= PENDING_LIMIT:
        await message.answer(
            _("Мы сохраним ваше сообщение, как только вы дадите согласие.") + "\n\n" + consent_text(),
            reply_markup=consent_keyboard(),
        )


async def _keep_quietly(
    message: Message,
    session: AsyncSession,
    citizen: Citizen,
    incoming: Incoming,
    settings: Settings,
    now: datetime,
    notice: bool,
    deadline_cache: DeadlineContextCache,
) -> None:
    item = await latest_open_item(session, citizen.id)
    if item is None:
        item = (await register_bot_message(session, citizen, incoming, now, settings.tz,
                                           deadlines=await deadline_cache.get(session))).item
    else:
        await add_to_item(session, item, citizen, incoming, now)
    await session.commit()
    if notice:
        await message.answer(
            _("Вы присылаете сообщения очень часто. Ничего не потеряется: всё, что вы пишете, "
              "добавляется к сообщению <b>№ {number}</b>. Подождите немного перед следующим.").format(
                number=item.number
            )
        )


async def unsupported(message: Message) -> None:
    await message.answer(
        _("Такое сообщение мы не можем принять. Пришлите, пожалуйста, текст, фото, документ, "
          "голосовое сообщение или геопозицию.")
    )


def make_router() -> Router:
    router = Router(name="citizen")
    router.message.register(my_items, Command("my"))
    router.message.register(stop, Command("stop"))
    router.callback_query.register(consent_answer, ConsentCb.filter())
    router.message.register(contact, F.contact)
    router.message.register(intake, ACCEPTED, ~F.text.startswith("/"))
    router.message.register(unsupported, F.sticker | F.video_note | F.animation | F.dice | F.poll | F.game | F.venue)
    return router

"""Inline keyboards, callback presses and answers; reply keyboards."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    InaccessibleMessage, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup, ReplyKeyboardRemove,
)

from sandbox_helpers import USER
from sandbox import SandboxClient, SandboxError

pytestmark = pytest.mark.asyncio


def inline(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs])


async def test_press_and_answer(bot: Bot, sb: SandboxClient) -> None:
    msg = await bot.send_message(USER, "Принять заявку?", reply_markup=inline(("Да", "yes"), ("Нет", "no")))
    pressed = await sb.press(USER, msg.message_id, "yes")
    [update] = await bot.get_updates(timeout=0)
    query = update.callback_query
    assert query and query.id == pressed["callback_query_id"] and query.data == "yes"
    assert query.message and query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(query.id, text="Принято", show_alert=True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    [answer] = await sb.callback_answers(USER)
    assert answer["text"] == "Принято" and answer["show_alert"] and answer["data"] == "yes"


async def test_press_requires_an_existing_button_unless_forged(bot: Bot, sb: SandboxClient) -> None:
    msg = await bot.send_message(USER, "Меню", reply_markup=inline(("A", "a")))
    with pytest.raises(SandboxError, match="no button"):
        await sb.press(USER, msg.message_id, "evil")
    forged = await sb.press(USER, msg.message_id, "evil", forge=True)
    gone = await sb.press(USER, 999, "old", forge=True)  # e.g. a button on a long-deleted message
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [forged["update_id"], gone["update_id"]]
    assert updates[1].callback_query and updates[1].callback_query.message
    assert isinstance(updates[1].callback_query.message, InaccessibleMessage)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=inline(("x", "я" * 32)))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=inline(("x", "a" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "bad", reply_markup=inline(("x", "я" * 33)))  # 33 chars, 66 bytes


async def test_button_needs_exactly_one_action(bot: Bot) -> None:
    no_action = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x")]])
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(USER, "bad", reply_markup=no_action)
    two = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="a", url="https://e.org")]])
    with pytest.raises(TelegramBadRequest, match="exactly one"):
        await bot.send_message(USER, "bad", reply_markup=two)


async def test_edit_markup_and_text_without_markup_drops_keyboard(bot: Bot, sb: SandboxClient) -> None:
    msg = await bot.send_message(USER, "Заявка", reply_markup=inline(("A", "a")))
    edited = await bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id,
                                                 reply_markup=inline(("B", "b")))
    assert not isinstance(edited, bool) and edited.reply_markup
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=msg.message_id, reply_markup=inline(("B", "b")))
    # Like Telegram: editing the text without reply_markup removes the inline keyboard.
    await bot.edit_message_text("Заявка закрыта", chat_id=USER, message_id=msg.message_id)
    [view] = await sb.messages(USER)
    assert view["reply_markup"] is None and view["text"] == "Заявка закрыта"


async def test_reply_keyboard_is_tracked_for_the_chat_ui(bot: Bot, sb: SandboxClient) -> None:
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="📍 Геопозиция", request_location=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    msg = await bot.send_message(USER, "Где вы?", reply_markup=keyboard)
    assert msg.reply_markup is None  # Message.reply_markup only ever carries inline keyboards
    assert (await sb.chat(USER))["keyboard"]["keyboard"][0][0]["request_location"] is True
    await sb.send_location(USER, 55.75, 37.62)
    assert (await sb.chat(USER))["keyboard"] is None  # one-time keyboard hides after use
    await bot.send_message(USER, "ok", reply_markup=ReplyKeyboardRemove())

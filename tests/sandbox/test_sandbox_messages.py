"""Core Bot API behaviour through a real aiogram Bot."""

from __future__ import annotations

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest, TelegramForbiddenError, TelegramNotFound, TelegramUnauthorizedError,
)
from aiogram.types import ReplyParameters

from sandbox_helpers import TOKEN, USER, make_bot
from sandbox import SandboxClient, SandboxServer

pytestmark = pytest.mark.asyncio


async def test_get_me(bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456 and me.is_bot
    assert me.username == "mcu_sandbox_bot"
    assert me.first_name == "МЦУ (песочница)"


async def test_bot_username_is_configurable(server: SandboxServer, sb: SandboxClient, bot: Bot) -> None:
    await sb.register_bot(TOKEN, username="mcu_training_bot")
    assert (await bot.get_me()).username == "mcu_training_bot"


async def test_send_edit_delete(bot: Bot, sb: SandboxClient) -> None:
    sent = await bot.send_message(USER, "первое")
    assert sent.chat.id == USER and sent.from_user and sent.from_user.is_bot
    edited = await bot.edit_message_text("второе", chat_id=USER, message_id=sent.message_id)
    assert not isinstance(edited, bool) and edited.text == "второе" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("второе", chat_id=USER, message_id=sent.message_id)
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=999)
    [view] = await sb.messages(USER)
    assert view["text"] == "второе" and view["edited"] and view["deleted"] and view["from_bot"]


async def test_reply_to_user_message(bot: Bot, sb: SandboxClient) -> None:
    incoming = (await sb.send_text(USER, "вопрос"))["message"]
    answer = await bot.send_message(USER, "ответ", reply_parameters=ReplyParameters(message_id=incoming["message_id"]))
    assert answer.reply_to_message and answer.reply_to_message.text == "вопрос"
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER, "x", reply_parameters=ReplyParameters(message_id=12345))


async def test_text_length_counts_after_entity_parsing(bot: Bot) -> None:
    await bot.send_message(USER, "я" * 4096)
    # Markup does not count: 4096 visible characters wrapped in <b> are fine.
    await bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "   ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "<b></b>", parse_mode="HTML")


async def test_unknown_chat_and_blocked_user(bot: Bot, sb: SandboxClient) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "кто здесь?")
    await sb.block(USER, True)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "ау")
    await sb.block(USER, False)
    await bot.send_message(USER, "снова можно")


async def test_blocking_is_announced_as_my_chat_member(bot: Bot, sb: SandboxClient) -> None:
    await sb.block(USER, True)
    [update] = await bot.get_updates(timeout=0)
    assert update.my_chat_member and update.my_chat_member.new_chat_member.status == "kicked"


async def test_bad_token_and_unknown_method(server: SandboxServer) -> None:
    bad = make_bot(server.url, "123:bad.token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await bad.get_me()
    finally:
        await bad.session.close()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/bot{TOKEN}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        # Telegram method names are case-insensitive; JSON bodies work too.
        async with http.post(f"{server.url}/bot{TOKEN}/SENDMESSAGE", json={"chat_id": USER, "text": "hi"}) as resp:
            body = await resp.json()
            assert body["ok"] and body["result"]["text"] == "hi"


async def test_not_found_maps_to_aiogram_exception(bot: Bot, server: SandboxServer) -> None:
    from aiogram.methods import GetMe

    class Bogus(GetMe):
        __api_method__ = "bogusMethod"

    with pytest.raises(TelegramNotFound):
        await bot(Bogus())


async def test_get_chat_and_commands(bot: Bot) -> None:
    from aiogram.types import BotCommand

    chat = await bot.get_chat(USER)
    assert chat.first_name == "Иван" and chat.type == "private"
    await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    assert await bot.send_chat_action(USER, "typing")


async def test_user_who_never_started_the_bot(bot: Bot, sb: SandboxClient) -> None:
    from aiogram.exceptions import TelegramForbiddenError

    await sb.request("POST", "/sandbox/users", {"id": 3003, "first_name": "Новый", "started": False})
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(3003, "Здравствуйте")
    await sb.send_text(3003, "/start")
    await bot.send_message(3003, "Здравствуйте")

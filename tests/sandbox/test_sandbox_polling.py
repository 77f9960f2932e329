"""getUpdates semantics and a full aiogram Dispatcher long-poll loop."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError
from aiogram.types import Message

from sandbox_helpers import TOKEN, USER, make_bot
from sandbox import SandboxClient, SandboxServer, start_sandbox

pytestmark = pytest.mark.asyncio


async def test_dispatcher_echo_loop(bot: Bot, sb: SandboxClient) -> None:
    dp = Dispatcher()
    seen: list[str] = []

    @dp.message()
    async def echo(message: Message) -> None:
        seen.append(message.text or "")
        await message.answer(f"Эхо: {message.text}")

    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
    try:
        sent = await sb.send_text(USER, "/start привет")
        assert sent["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
        reply = await sb.wait_bot_message(USER, after=sent["message"]["message_id"], timeout=5)
        assert reply["text"] == "Эхо: /start привет"
        second = await sb.send_text(USER, "ещё")
        reply = await sb.wait_bot_message(USER, after=second["message"]["message_id"], timeout=5)
        assert reply["text"] == "Эхо: ещё" and seen == ["/start привет", "ещё"]
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)
    stats = await sb.stats()
    assert stats["calls"]["getUpdates"] >= 2 and stats["sends"] == 2


async def test_second_getupdates_terminates_the_first(bot: Bot, server: SandboxServer) -> None:
    other = make_bot(server.url)  # "another instance" of the same bot
    try:
        first = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        second = asyncio.create_task(other.get_updates(timeout=0))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
            await first
        assert await second == []
    finally:
        await other.session.close()


async def test_offset_confirms_and_unconfirmed_updates_come_back(bot: Bot, sb: SandboxClient) -> None:
    a = await sb.send_text(USER, "a")
    b = await sb.send_text(USER, "b")
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [a["update_id"], b["update_id"]]
    # Not confirmed yet: delivered again.
    assert len(await bot.get_updates(timeout=0)) == 2
    assert [u.update_id for u in await bot.get_updates(offset=b["update_id"], timeout=0)] == [b["update_id"]]
    assert await bot.get_updates(offset=b["update_id"] + 1, timeout=0) == []
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0


async def test_long_poll_wakes_up_on_new_update(bot: Bot, sb: SandboxClient) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await sb.send_text(USER, "ping")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert loop.time() - started < 1.0


async def test_duplicate_raw_update_is_delivered_twice(bot: Bot, sb: SandboxClient) -> None:
    sent = await sb.send_text(USER, "оригинал")
    [first] = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=first.update_id + 1, timeout=0)  # confirm it
    again = await sb.raw_update({"update_id": first.update_id, "message": sent["message"]})
    assert again["update_id"] == first.update_id
    [dup] = await bot.get_updates(offset=first.update_id + 1, timeout=0)
    assert dup.update_id == first.update_id and dup.message and dup.message.text == "оригинал"
    fresh = await sb.raw_update({"message": sent["message"]})
    assert fresh["update_id"] == first.update_id + 1  # ids keep increasing


async def test_allowed_updates_filter(bot: Bot, sb: SandboxClient) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    result = await sb.send_text(USER, "не нужен")
    assert result["queued"] is False
    assert await bot.get_updates(timeout=0) == []


async def test_updates_sent_before_the_bot_exists_are_kept() -> None:
    server = await start_sandbox()
    bot = make_bot(server.url, TOKEN)
    try:
        async with SandboxClient(server.url) as sb:
            await sb.add_user(USER, "Иван")
            await sb.send_text(USER, "/start")  # no bot has called the API yet
        [update] = await bot.get_updates(timeout=0)
        assert update.message and update.message.text == "/start"
    finally:
        await bot.session.close()
        await server.stop()

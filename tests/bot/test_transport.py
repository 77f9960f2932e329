"""How the bot meets Telegram: webhook mode, FSM in Redis, push-back and failures, a blocked user."""
from __future__ import annotations

import asyncio
import socket

import pytest
import redis.asyncio as aioredis
from sqlalchemy import select

from bot.factory import make_bot, make_dispatcher
from db.models import Citizen, Item
from mcu.runtime import WEBHOOK_PATH, _run_bot
from sandbox import SandboxClient
from tests.bot.conftest import NUMBER

REDIS_URL = "redis://127.0.0.1:6379/15"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_webhook_mode_with_secret(settings, sessionmaker, sandbox_server):
    port = free_port()
    hooked = settings.model_copy(update={
        "webhook_url": f"http://127.0.0.1:{port}{WEBHOOK_PATH}", "webhook_port": port,
        "webhook_secret": __import__("pydantic").SecretStr("s3cret-token"),
    })
    bot = make_bot(hooked, api_url=sandbox_server.url)
    dp = make_dispatcher(hooked, sessionmaker)
    stop = asyncio.Event()
    runner = asyncio.create_task(_run_bot(hooked, bot, dp, stop))
    try:
        async with SandboxClient(sandbox_server.url) as sb:
            for _ in range(100):
                bots = await sb.bots()
                if bots and bots[0]["webhook"] and bots[0]["webhook"].get("url"):
                    break
                await asyncio.sleep(0.05)
            info = await bot.get_webhook_info()
            assert info.url == hooked.webhook_url
            await sb.add_user(6001, first_name="Вера")
            await sb.send_text(6001, "/start")
            greeting = await sb.wait_bot_message(6001, timeout=10)
            assert "152-ФЗ" in greeting["text"]
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
        await bot.session.close()


async def test_dialogue_state_in_redis_survives_a_new_dispatcher(settings, sessionmaker, sandbox_server):
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    await client.flushdb()
    with_redis = settings.model_copy(update={"redis_url": REDIS_URL})
    bot = make_bot(with_redis, api_url=sandbox_server.url)
    try:
        async with SandboxClient(sandbox_server.url) as sb:
            await sb.add_user(6002, first_name="Глеб")
            dp = make_dispatcher(with_redis, sessionmaker)
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False,
                                                           polling_timeout=1))
            await sb.send_text(6002, "Упало дерево на провода")
            ask = await sb.wait_bot_message(6002, timeout=10)
            await dp.stop_polling()
            await polling
            assert await client.dbsize() > 0  # the held message lives in Redis, not in the process

            dp = make_dispatcher(with_redis, sessionmaker)  # "after a restart"
            polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False,
                                                           polling_timeout=1))
            agree = next(b for row in ask["reply_markup"]["inline_keyboard"] for b in row if "Согласен" in b["text"])
            await sb.press(6002, ask["message_id"], agree["callback_data"])
            done = await sb.wait_bot_message(6002, after=ask["message_id"], timeout=10)
            assert NUMBER.search(done["text"])
            await dp.stop_polling()
            await polling
        async with sessionmaker() as session:
            assert await session.scalar(select(Item.text)) == "Упало дерево на провода"
    finally:
        await client.flushdb()
        await client.aclose()
        await bot.session.close()


async def test_reply_survives_429_and_500(harness):
    user = await harness.user(6003)
    await harness.consent(user)
    await harness.sb.faults("429", count=1, methods=["sendMessage"], retry_after=1)
    reply = await harness.say(user, "Нет воды с утра")
    assert NUMBER.search(reply["text"])
    await harness.sb.faults("500", count=1, methods=["sendMessage"])
    reply = await harness.say(user, "И света тоже нет")  # joins the draft; the question is asked again
    assert "Как подать?" in reply["text"]
    stats = await harness.sb.stats()
    assert stats["faults_injected"]


async def test_blocked_citizen_is_marked_unreachable_and_nothing_is_lost(harness):
    user = await harness.user(6004)
    await harness.consent(user)
    await harness.sb.block(user, True)
    # Telegram still delivers what was sent before the block; the reply then gets 403.
    await harness.sb.raw_update({
        "update_id": 950_001,
        "message": {"message_id": 777, "date": 1_780_000_000,
                    "chat": {"id": user, "type": "private", "first_name": "Анна"},
                    "from": {"id": user, "is_bot": False, "first_name": "Анна"}, "text": "Последнее сообщение"},
    })
    for _ in range(100):
        async with harness.sessionmaker() as session:
            citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == user))
            if citizen.unreachable_since is not None:
                break
        await asyncio.sleep(0.05)
    assert citizen.unreachable_since is not None
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(Item.text)) == "Последнее сообщение"

"""Flood control and fault injection as aiogram sees them."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError

from sandbox_helpers import USER, FakeClock
from sandbox import SandboxClient

pytestmark = pytest.mark.asyncio


async def test_quick_sends_to_one_chat_hit_429(bot: Bot, sb: SandboxClient, clock: FakeClock) -> None:
    clock.step = 0  # time stands still: no sleeping, fully deterministic
    outcomes: list[str] = []
    for i in range(5):
        try:
            await bot.send_message(USER, f"#{i}")
            outcomes.append("ok")
        except TelegramRetryAfter as exc:
            assert exc.retry_after >= 1 and "Too Many Requests: retry after" in exc.message
            outcomes.append("429")
    assert outcomes == ["ok", "ok", "ok", "429", "429"]  # burst of 3, then 1/s
    stats = await sb.stats()
    assert stats["violations"]["chat"] == 2 and stats["sends"] == 3
    # Edits and chat actions are not counted as sends.
    await bot.send_chat_action(USER, "typing")
    clock.advance(1.0)
    await bot.send_message(USER, "после паузы")


async def test_group_limit_and_switching_limits_off(bot: Bot, sb: SandboxClient, clock: FakeClock) -> None:
    clock.step = 0
    await sb.add_group(-100500, "Дежурная смена", members=[USER])
    for i in range(20):
        await bot.send_message(-100500, f"сводка {i}")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(-100500, "лишнее")
    assert info.value.retry_after == 3
    assert (await sb.stats())["violations"]["group"] == 1
    await sb.limits(enabled=False)  # bulk tests: no flood control at all
    for i in range(10):
        await bot.send_message(-100500, f"массово {i}")
    assert (await sb.limits())["enabled"] is False


async def test_injected_server_errors(bot: Bot, sb: SandboxClient) -> None:
    await sb.faults("500", count=1, methods=["sendMessage"])
    await bot.get_me()  # other methods are not affected
    with pytest.raises(TelegramServerError, match="Internal Server Error"):
        await bot.send_message(USER, "упадёт")
    await bot.send_message(USER, "пройдёт")  # count exhausted
    await sb.faults("502", count=1)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    await sb.faults("429", count=1, retry_after=7)
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.get_me()
    assert info.value.retry_after == 7
    stats = await sb.stats()
    assert stats["faults_injected"] == {"500": 1, "502": 1, "429": 1}
    assert stats["errors"] == {"500": 1, "502": 1, "429": 1}


async def test_injected_delay_and_probability(bot: Bot, sb: SandboxClient) -> None:
    await sb.faults("delay", count=1, delay=0.3)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await bot.get_me()
    assert loop.time() - started >= 0.3
    await sb.faults("500", probability=0.5, seed=42, methods=["getMe"])
    failures = 0
    for _ in range(20):
        try:
            await bot.get_me()
        except TelegramServerError:
            failures += 1
    assert 0 < failures < 20
    await sb.clear_faults()
    await bot.get_me()


async def test_fault_after_the_call_still_delivers(bot: Bot, sb: SandboxClient) -> None:
    """"Bad Gateway, but the message went out" — what makes naive retries send twice."""
    await sb.faults("502", count=1, after=True, methods=["sendMessage"])
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(USER, "дошло?")
    assert [m["text"] for m in await sb.bot_messages(USER)] == ["дошло?"]

"""The outbox sender against the sandbox Bot API: order, priorities, limits, faults, 403, a crash."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.factory import make_bot
from core.outbox import enqueue_message, outbox_counts
from db.models import Citizen, OutboxMessage, OutboxPriority
from sandbox import SandboxClient, start_sandbox
from scheduler.outbox_sender import OutboxSender
from scheduler.ratelimit import RateGate


class FakeTime:
    """Monotonic and wall time that move only when the sender sleeps or the test says so."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        return 10_000.0 + self.offset

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.offset)

    async def sleep(self, seconds: float) -> None:
        self.offset += seconds
        await asyncio.sleep(0)


@pytest.fixture
async def world(settings, sessionmaker) -> AsyncIterator[dict[str, Any]]:
    time = FakeTime()
    server = await start_sandbox(port=0, clock=time.monotonic)
    bot = make_bot(settings, api_url=server.url, dialogue=False)
    sender = OutboxSender(bot, sessionmaker, clock=time.now, sleep=time.sleep,
                          gate=RateGate(clock=time.monotonic), idle=0)
    async with SandboxClient(server.url) as sb:
        await sb.limits(enabled=True, strict=True)
        yield {"time": time, "sb": sb, "sender": sender, "server": server}
    await bot.session.close()
    await server.stop()


async def drain(world: dict[str, Any], sessionmaker, limit: int = 2000) -> None:
    """Run passes until nothing is pending, moving the fake time when nothing is due yet."""
    for _ in range(limit):
        handled = await world["sender"].drain_once()
        async with sessionmaker() as session:
            counts = await outbox_counts(session)
        if counts.pending == 0 and counts.sending == 0:
            return
        if not handled:
            await world["time"].sleep(0.5)
    raise AssertionError("the outbox did not drain")


async def test_order_per_chat_priorities_and_no_violations(world, sessionmaker):
    sb, time = world["sb"], world["time"]
    chats = [7001, 7002, 7003]
    for chat in chats:
        await sb.add_user(chat, first_name="Житель")
    async with sessionmaker() as session, session.begin():
        for n in range(6):
            for chat in chats:
                enqueue_message(session, chat, f"{chat}: напоминание {n}", priority=OutboxPriority.reminder,
                                now=time.now())
        enqueue_message(session, 7001, "7001: срочно", priority=OutboxPriority.alert, now=time.now())
    await drain(world, sessionmaker)
    for chat in chats:
        texts = [m["text"] for m in await sb.bot_messages(chat)]
        expected = [f"{chat}: напоминание {n}" for n in range(6)] + (["7001: срочно"] if chat == 7001 else [])
        assert texts == expected  # a chat's order is the order of writing
    stats = await sb.stats()
    assert sum(stats["violations"].values()) == 0
    async with sessionmaker() as session:
        counts = await outbox_counts(session)
    assert (counts.sent, counts.failed, counts.pending) == (19, 0, 0)


async def test_priority_across_chats(world, sessionmaker):
    sb, time = world["sb"], world["time"]
    for chat in (7101, 7102):
        await sb.add_user(chat, first_name="Житель")
    async with sessionmaker() as session, session.begin():
        enqueue_message(session, 7101, "рассылка", priority=OutboxPriority.broadcast, now=time.now())
        enqueue_message(session, 7102, "ответ в диалоге", priority=OutboxPriority.dialogue, now=time.now())
    world["sender"].batch = 1
    await world["sender"].drain_once()
    assert await sb.bot_messages(7102) and not await sb.bot_messages(7101)


async def test_faults_429_and_5xx_lose_nothing_and_break_no_limit(world, sessionmaker):
    sb, time = world["sb"], world["time"]
    chats = list(range(7200, 7240))
    for chat in chats:
        await sb.add_user(chat, first_name="Житель")
    async with sessionmaker() as session, session.begin():
        for n in range(3):
            for chat in chats:
                enqueue_message(session, chat, f"{chat}/{n}", now=time.now())
    await sb.faults("429", probability=0.1, methods=["sendMessage"], retry_after=2, seed=1)
    await sb.faults("502", probability=0.1, methods=["sendMessage"], seed=2)
    await drain(world, sessionmaker)
    for chat in chats:
        assert [m["text"] for m in await sb.bot_messages(chat)] == [f"{chat}/{n}" for n in range(3)]
    stats = await sb.stats()
    assert stats["faults_injected"] and sum(stats["violations"].values()) == 0


async def test_blocked_citizen_is_final_and_marked(world, sessionmaker):
    sb, time = world["sb"], world["time"]
    await sb.add_user(7301, first_name="Житель")
    await sb.block(7301, True)
    async with sessionmaker() as session, session.begin():
        session.add(Citizen(telegram_id=7301, first_name="Житель"))
        enqueue_message(session, 7301, "Ваш ответ готов", now=time.now())
    await drain(world, sessionmaker)
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row.status == "failed" and row.last_error.startswith("403")
        citizen = await session.scalar(select(Citizen))
        assert citizen.unreachable_since is not None


async def test_rows_of_a_crashed_sender_are_sent_after_a_while(world, sessionmaker):
    sb, time = world["sb"], world["time"]
    await sb.add_user(7401, first_name="Житель")
    async with sessionmaker() as session, session.begin():
        enqueue_message(session, 7401, "после сбоя", now=time.now())
    async with sessionmaker() as session, session.begin():  # a sender claimed it, then died
        await session.execute(update(OutboxMessage).values(status="sending", claimed_at=time.now()))
    assert await world["sender"].drain_once() == 0
    await time.sleep(180)
    await drain(world, sessionmaker)
    assert [m["text"] for m in await sb.bot_messages(7401)] == ["после сбоя"]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.status == "sent")) == 1

"""The centre's people and the outbox for the bot tests of staff work: organisations, officials,
an item registered through the core calls, and the real outbox sender delivering to the sandbox."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.factory import make_bot
from core.intake import Incoming, confirm_draft, receive_bot_message
from core.lifecycle import lifecycle_context
from core.settings import Settings
from core.staff import add_staff
from db.models import (
    Citizen,
    Item,
    ItemKind,
    Organisation,
    OutboxMessage,
    Role,
    RoutingRule,
    Topic,
)
from scheduler.outbox_sender import OutboxSender
from scheduler.ratelimit import RateGate
from tests.bot.conftest import Harness
from tests.bot.dialogue_steps import act, button

CURATOR, RECIPIENT, COLLEAGUE, TEACHER = 9101, 9102, 9103, 9104
ZHKH = "Отдел ЖКХ"
_messages = itertools.count(1)


@dataclass
class Office:
    zhkh: int  # organisation ids
    edu: int
    staff: dict[int, int]  # telegram id → staff id


async def set_up_office(h: Harness) -> Office:
    """A curator (routes and reviews), two officials of «Отдел ЖКХ», one of «Отдел образования»;
    the rule «ЖКХ» → «Отдел ЖКХ»."""
    for user, name in ((CURATOR, "Ольга"), (RECIPIENT, "Иван"), (COLLEAGUE, "Пётр"), (TEACHER, "Мария")):
        await h.user(user, first_name=name)
    async with h.sessionmaker() as session, session.begin():
        zhkh = Organisation(name=ZHKH, email="zhkh@example.test")
        edu = Organisation(name="Отдел образования")
        session.add_all([zhkh, edu])
        await session.flush()
        housing = await session.scalar(select(Topic.id).where(Topic.code == "housing"))
        session.add(RoutingRule(topic_id=housing, organisation_id=zhkh.id))
        staff = {}
        for tg, roles, name, org in ((CURATOR, [Role.curator], "Куратор Ольга", None),
                                     (RECIPIENT, [Role.recipient], "Иванов И. И.", zhkh.id),
                                     (COLLEAGUE, [Role.recipient], "Петров П. П.", zhkh.id),
                                     (TEACHER, [Role.recipient], "Сидорова М. А.", edu.id)):
            person, _created = await add_staff(session, telegram_id=tg, roles=roles, name=name)
            person.organisation_id = org
            staff[tg] = person.id
        return Office(zhkh.id, edu.id, staff)


async def consented_citizen(h: Harness, user_id: int, name: str = "Анна") -> int:
    await h.user(user_id, first_name=name)
    async with h.sessionmaker() as session, session.begin():
        session.add(Citizen(telegram_id=user_id, first_name=name, consent_at=datetime.now(UTC),
                            consent_version="test"))
    return user_id


async def registered_item(h: Harness, settings: Settings, citizen_tg: int,
                          text: str = "Течёт крыша в доме 5 по ул. Ленина", *, appeal: bool = False) -> int:
    """An item the citizen wrote and confirmed, through the same core calls as the dialogue: the
    triage card goes to the curator."""
    now = datetime.now(UTC)
    async with h.sessionmaker() as session, session.begin():
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == citizen_tg))
        incoming = Incoming(text=text, tg_chat_id=citizen_tg, tg_message_id=900_000 + next(_messages))
        item = (await receive_bot_message(session, citizen, incoming, now, settings.tz)).item
        item.kind = ItemKind.appeal if appeal else ItemKind.message
        if appeal:
            item.applicant_name = "Смирнова Анна Сергеевна"
            item.reply_address = "anna@example.test"
        item.topic_id = await session.scalar(select(Topic.id).where(Topic.code == "housing"))
        await confirm_draft(await lifecycle_context(session, settings, now), item, citizen)
        return item.id


async def load(h: Harness, item_id: int) -> Item:
    async with h.sessionmaker() as session:
        item = await session.get(Item, item_id)
        assert item is not None
        return item


@asynccontextmanager
async def courier(settings: Settings, sessionmaker: Any, url: str) -> AsyncIterator[OutboxSender]:
    """The real outbox sender running beside the bot, as `mcu run` does. Its rate gate sees time
    jump 10 s at every look, so Telegram's limits never hold a test up (the sender's own tests check
    the limits)."""
    bot = make_bot(settings, api_url=url, dialogue=False)
    ticks = itertools.count(start=10_000.0, step=10.0)
    sender = OutboxSender(bot, sessionmaker, gate=RateGate(clock=lambda: next(ticks)), idle=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    try:
        yield sender
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await bot.session.close()


async def tap(h: Harness, user: int, message: dict[str, Any], text_contains: str, contains: str) -> dict[str, Any]:
    """Press a button of a message and return the bot's next message containing `contains`."""
    data = button(message, text_contains)
    return await act(h, user, lambda: h.sb.press(user, message["message_id"], data), contains)


async def alert_after(h: Harness, user: int, do: Any, timeout: float = 10) -> str:
    """Do a press and return the text of the answer to it (an alert or a toast)."""
    before = len(await h.sb.callback_answers(user))
    await do()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        answers = await h.sb.callback_answers(user)
        if len(answers) > before:
            return answers[before].get("text") or ""
        await asyncio.sleep(0.05)
    raise TimeoutError("the press was not answered")


async def edited(h: Harness, user: int, message: dict[str, Any], text_contains: str, contains: str,
                 timeout: float = 10) -> dict[str, Any]:
    """Press a button and return the same message once the bot has edited it to show `contains`."""
    data = button(message, text_contains)
    await h.sb.press(user, message["message_id"], data)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        current = next(m for m in await h.sb.messages(user, after=message["message_id"] - 1)
                       if m["message_id"] == message["message_id"])
        if contains in (current.get("text") or ""):
            return current
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the message was not edited to show {contains!r}")


async def outbox_settled(h: Harness, timeout: float = 10) -> None:
    """Wait until the sender has handled every row (a fresh session each look: a long read would
    hold SQLite's one connection and see an old snapshot)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        async with h.sessionmaker() as session:
            waiting = await session.scalar(select(func.count(OutboxMessage.id)).where(
                OutboxMessage.status.in_(["pending", "sending"])))
        if not waiting:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the outbox did not drain")

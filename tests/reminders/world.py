"""A small district on a real database for the reminder and survey tests: one organisation with an
official, a second one, the curator, the head and a citizen; items go through the real lifecycle,
ticks run on a manual clock."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle as lc
from core.actors import SYSTEM, Actor
from core.clock import ManualClock
from core.deadlines import set_deadlines
from core.options import set_option
from core.settings import Settings
from core.staff import add_staff
from db.models import (
    Channel,
    Citizen,
    Item,
    ItemKind,
    Organisation,
    OutboxMessage,
    Reminder,
    Role,
    Staff,
    Status,
)
from scheduler.ticks import ReminderTicker, TickStats

MSK = ZoneInfo("Europe/Moscow")
T = TypeVar("T")
OFFICIAL, CURATOR, HEAD, CITIZEN = 7001, 7002, 7003, 7100


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


@dataclass
class World:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    clock: ManualClock
    org_id: int = 0
    other_org_id: int = 0
    official_id: int = 0
    citizen_id: int = 0
    numbers: Any = field(default_factory=lambda: count(1))

    @property
    def now(self) -> datetime:
        return self.clock()

    def at(self, *args: int) -> datetime:
        self.clock.now = msk(*args)
        return self.clock.now

    async def act(self, action: Callable[[lc.LifecycleContext], Awaitable[T]]) -> T:
        """Run `action(ctx)` in its own committed transaction at the clock's time."""
        async with self.sessionmaker() as session, session.begin():
            ctx = await lc.lifecycle_context(session, self.settings, self.now)
            return await action(ctx)

    async def on_item(self, item_id: int, action: Callable[[lc.LifecycleContext, Item], Awaitable[T]]) -> T:
        async def run(ctx: lc.LifecycleContext) -> T:
            item = await lc.load_item(ctx.session, item_id)
            assert item is not None
            return await action(ctx, item)

        return await self.act(run)

    async def option(self, name: str, value: Any) -> None:
        async with self.sessionmaker() as session, session.begin():
            await set_option(session, name, value, staff_id=None, now=self.now)

    def ticker(self, **kwargs: Any) -> ReminderTicker:
        return ReminderTicker(self.sessionmaker, self.settings, self.clock, **kwargs)

    async def tick(self, **kwargs: Any) -> TickStats:
        return await self.ticker(**kwargs).tick()

    async def new_item(self, *, kind: str = ItemKind.appeal, channel: str = Channel.bot, priority: int = 0,
                       assign: bool = True, citizen_id: int | None = None, text: str = "Течёт крыша в доме 5",
                       organisation_id: int | None = None) -> int:
        """A registered item with its deadlines, sent to the organisation at the clock's time."""
        async def run(ctx: lc.LifecycleContext) -> int:
            item = Item(number=f"2026-{next(self.numbers):06d}", kind=kind, channel=channel, priority=priority,
                        status=Status.received, citizen_id=citizen_id or self.citizen_id, text=text,
                        received_at=ctx.now)
            ctx.session.add(item)
            await ctx.session.flush()
            lc.transition(ctx.session, item, Status.registered, SYSTEM, ctx.now)
            await set_deadlines(ctx.session, item, ctx.now, ctx.deadlines.calendar, ctx.deadlines.book)
            if assign:
                await lc.assign(ctx, item, organisation_id or self.org_id, SYSTEM)
            return item.id

        return await self.act(run)

    async def item(self, item_id: int) -> Item:
        async with self.sessionmaker() as session:
            item = await session.get(Item, item_id)
            assert item is not None
            return item

    async def reminders(self, item_id: int | None = None) -> list[tuple[str, datetime, str]]:
        async with self.sessionmaker() as session:
            query = select(Reminder).order_by(Reminder.due_at, Reminder.id)
            if item_id is not None:
                query = query.where(Reminder.item_id == item_id)
            return [(r.kind, r.due_at.astimezone(MSK).replace(tzinfo=None), r.status)
                    for r in (await session.scalars(query)).all()]

    async def outbox(self, chat_id: int | None = None, *, email: str | None = None) -> list[OutboxMessage]:
        async with self.sessionmaker() as session:
            query = select(OutboxMessage).order_by(OutboxMessage.id)
            if chat_id is not None:
                query = query.where(OutboxMessage.chat_id == chat_id)
            if email is not None:
                query = query.where(OutboxMessage.email == email)
            return list((await session.scalars(query)).all())

    async def texts(self, chat_id: int) -> list[str]:
        return [row.payload.get("text", "") for row in await self.outbox(chat_id)]

    async def official(self) -> Staff:
        async with self.sessionmaker() as session:
            staff = await session.get(Staff, self.official_id)
            assert staff is not None
            return staff

    async def citizen(self) -> Citizen:
        async with self.sessionmaker() as session:
            citizen = await session.get(Citizen, self.citizen_id)
            assert citizen is not None
            return citizen

    async def deliver(self, item_id: int) -> None:
        """The official answers and (review off) the answer reaches the citizen."""
        staff = await self.official()
        await self.on_item(item_id, lambda ctx, item: lc.answer(ctx, item, staff, "Крышу починили."))


async def make_world(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                     start: datetime) -> World:
    world = World(sessionmaker, settings, ManualClock(start))
    async with sessionmaker() as session, session.begin():
        org = Organisation(name="Отдел ЖКХ и благоустройства", email="zhkh@example.test")
        other = Organisation(name="Отдел образования")
        session.add_all([org, other])
        await session.flush()
        official, _ = await add_staff(session, telegram_id=OFFICIAL, roles=[Role.recipient], name="Иванов")
        official.organisation_id = org.id
        await add_staff(session, telegram_id=CURATOR, roles=[Role.curator], name="Куратор")
        await add_staff(session, telegram_id=HEAD, roles=[Role.head], name="Глава")
        citizen = Citizen(telegram_id=CITIZEN, first_name="Анна", consent_at=start)
        session.add(citizen)
        await session.flush()
        world.org_id, world.other_org_id = org.id, other.id
        world.official_id, world.citizen_id = official.id, citizen.id
    return world


def actor_of(citizen: Citizen) -> Actor:
    return Actor.citizen(citizen.id)

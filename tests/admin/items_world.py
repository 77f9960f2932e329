"""A small office for the admin's item tests: two organisations, the centre's people and officials
with admin logins, a citizen, and items registered through the same core calls as the bot."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle as lc
from core.actors import Actor
from core.deadlines import set_deadlines
from core.settings import Settings
from db.models import (
    Citizen,
    Item,
    ItemKind,
    Organisation,
    Role,
    RoutingRule,
    Settlement,
    Staff,
    Status,
    Topic,
)

_numbers = itertools.count(1)


@dataclass
class Office:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    zhkh: int = 0
    edu: int = 0
    housing: int = 0
    roads: int = 0
    village: int = 0
    citizen: int = 0
    citizen_tg: int = 0
    people: dict[str, Staff] = field(default_factory=dict)

    def login_of(self, who: str) -> str:
        return self.people[who].login or ""

    async def item(self, text: str = "Течёт крыша в доме 5 по ул. Ленина", *, kind: str = ItemKind.appeal,
                   channel: str = "bot", at: datetime | None = None, organisation: int | None = None,
                   topic: int | None = None, **values: Any) -> Item:
        """A registered item, as the bot's dialogue leaves it; with `organisation`, routed there."""
        now = at or datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            item = Item(number=f"2026-{900_000 + next(_numbers):06d}", kind=kind, channel=channel,
                        status=Status.received, citizen_id=self.citizen, text=text, received_at=now,
                        topic_id=topic if topic is not None else self.housing, settlement_id=self.village,
                        applicant_name="Смирнова Анна Сергеевна" if kind == ItemKind.appeal else None, **values)
            session.add(item)
            await session.flush()
            ctx = await lc.lifecycle_context(session, self.settings, now)
            lc.transition(session, item, Status.registered, Actor.citizen(self.citizen), now)
            await set_deadlines(session, item, now, ctx.deadlines.calendar, ctx.deadlines.book)
            await lc.after_registration(ctx, item)
            if organisation is not None:
                await lc.assign(ctx, item, organisation, Actor.staff(self.people["curator"].id))
        return item

    async def load(self, number: str) -> Item:
        async with self.sessionmaker() as session:
            item = await session.scalar(select(Item).where(Item.number == number))
            assert item is not None
            return item

    async def history(self, number: str) -> list[tuple[str, str | None, str | None, int | None]]:
        item = await self.load(number)
        async with self.sessionmaker() as session:
            return [(e.action, e.old_value, e.new_value, e.actor_staff_id) for e in await lc.history(session, item.id)]


async def set_up_office(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], make_staff: Any,
                        *, curator_tg: int | None = None, official_tg: int | None = None) -> Office:
    office = Office(settings, sessionmaker)
    async with sessionmaker() as session, session.begin():
        zhkh, edu = Organisation(name="Отдел ЖКХ"), Organisation(name="Отдел образования")
        session.add_all([zhkh, edu])
        await session.flush()
        office.zhkh, office.edu = zhkh.id, edu.id
        office.housing = await session.scalar(select(Topic.id).where(Topic.code == "housing"))
        office.roads = await session.scalar(select(Topic.id).where(Topic.code == "roads"))
        office.village = await session.scalar(select(Settlement.id).where(Settlement.name == "Новодугино"))
        session.add(RoutingRule(topic_id=office.housing, organisation_id=zhkh.id))
        citizen = Citizen(telegram_id=5_500_001, first_name="Анна", full_name="Смирнова Анна Сергеевна",
                          phone="+79990001122", email="anna@example.test", consent_at=datetime.now(UTC) - timedelta(days=1))
        session.add(citizen)
        await session.flush()
        office.citizen, office.citizen_tg = citizen.id, 5_500_001
    office.people["curator"] = await make_staff(Role.curator, login="curator", name="Куратор Ольга")
    office.people["analyst"] = await make_staff(Role.analyst, login="analyst", name="Аналитик Пётр")
    office.people["official"] = await make_staff(Role.recipient, organisation_id=office.zhkh, login="official",
                                                 name="Иванов И. И.")
    office.people["teacher"] = await make_staff(Role.recipient, organisation_id=office.edu, login="teacher",
                                                name="Сидорова М. А.")
    # Telegram ids chosen by the test (the sandbox chats of the browser test); None keeps make_staff's.
    async with sessionmaker() as session, session.begin():
        for who, tg in (("curator", curator_tg), ("official", official_tg)):
            if tg is not None:
                person = await session.get(Staff, office.people[who].id)
                assert person is not None
                person.telegram_id = tg
    return office

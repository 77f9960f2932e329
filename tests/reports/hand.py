"""A hand-made district for the report's tests: ~20 items across October and November 2026 with
answers, surveys and events whose figures are worked out by hand in tests/reports/test_figures.py.

Times are Moscow wall-clock (`msk`); the report is for 1–30 November 2026 (previous period
2–31 October), made on 10 December 2026 at 10:00.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.report_model import Period
from core.staff import add_staff
from db.models import (
    Citizen,
    Item,
    ItemEvent,
    Organisation,
    Role,
    Settlement,
    Survey,
    Topic,
)

MSK = ZoneInfo("Europe/Moscow")
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), MSK)
NOW = datetime(2026, 12, 10, 10, 0, tzinfo=MSK).astimezone(UTC)


def msk(month: int, day: int, hour: int = 10, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK).astimezone(UTC)


@dataclass
class Hand:
    org_a: int = 0  # «Отдел ЖКХ»
    org_b: int = 0  # «Отдел образования»
    novodugino: int = 0
    vysokoe: int = 0
    topics: dict[str, int] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # name in the tables below → item id
    citizen: int = 0
    made: int = 0  # items made so far: numbers them


async def directory(session: AsyncSession) -> Hand:
    hand = Hand()
    a = Organisation(name="Отдел ЖКХ")
    b = Organisation(name="Отдел образования")
    session.add_all([a, b])
    citizen = Citizen(telegram_id=4242, first_name="Анна", consent_at=msk(9, 1))
    session.add(citizen)
    await session.flush()
    hand.org_a, hand.org_b, hand.citizen = a.id, b.id, citizen.id
    settlements = {s.name: s.id for s in await session.scalars(select(Settlement))}
    hand.novodugino, hand.vysokoe = settlements["Новодугино"], settlements["Высокое"]
    hand.topics = {t.code: t.id for t in await session.scalars(select(Topic))}
    return hand


def item(hand: Hand, name: str, received: datetime, topic: str, channel: str, settlement: str, org: str | None, *,
         status: str = "closed", due: datetime | None = None, first: datetime | None = None,
         answered: datetime | None = None, address: str | None = None, repeat_of: str | None = None,
         paused: datetime | None = None, draft: bool = False) -> Item:
    hand.made += 1
    return Item(
        number=f"2026-{hand.made:06d}", kind="message", channel=channel, status=status, text="…",
        topic_id=hand.topics[topic],
        settlement_id=hand.novodugino if settlement == "N" else hand.vysokoe,
        organisation_id={"A": hand.org_a, "B": hand.org_b, None: None}[org],
        citizen_id=hand.citizen, received_at=received, registered_at=None if draft else received,
        first_reaction_at=first,
        answered_at=answered, due_answer_at=due, address=address,
        repeat_of_id=hand.ids[repeat_of] if repeat_of else None, paused_since=paused,
        created_at=received, updated_at=received)


# name, received, topic, channel, settlement, organisation, and the rest as keywords.
ITEMS: list[tuple[str, datetime, str, str, str, str | None, dict[str, Any]]] = [
    # --- the previous period, 2–31 October ---
    ("p0", msk(10, 1, 23, 30), "housing", "bot", "N", "A",  # 1 October in Moscow: outside both periods
     {"due": msk(10, 31), "first": msk(10, 2), "answered": msk(10, 3)}),
    ("p6", msk(10, 2, 0, 30), "housing", "visit", "N", None,  # 2 October 00:30 Moscow = 1 October 21:30 UTC
     {"status": "registered", "due": msk(10, 31, 23, 0)}),
    ("p1", msk(10, 2), "housing", "bot", "N", "A",
     {"due": msk(10, 12), "first": msk(10, 2, 11), "answered": msk(10, 5), "address": "ул. Ленина, 3"}),
    ("p7", msk(10, 5), "roads", "bot", "V", "B",
     {"due": msk(10, 15), "first": msk(10, 6), "answered": msk(11, 3), "address": "ул. Садовая"}),
    ("p2", msk(10, 10), "roads", "pos", "V", "A",
     {"due": msk(10, 20), "first": msk(10, 10, 14), "answered": msk(10, 25), "address": "Садовая ул. 12"}),
    ("p3", msk(10, 15), "roads", "im", "N", "B",
     {"due": msk(10, 16), "first": msk(10, 15, 11), "answered": msk(10, 15, 20)}),
    ("p4", msk(10, 20), "education", "bot", "N", "B",
     {"due": msk(11, 19), "first": msk(10, 21), "answered": msk(11, 11)}),
    ("p5", msk(10, 25), "housing", "pos", "N", "A",  # reopened on 20.11 and answered again
     {"due": msk(11, 30), "first": msk(10, 25, 12), "answered": msk(11, 22), "address": "ул. Советская, 1"}),
    # --- the period, 1–30 November ---
    ("c10", msk(11, 1, 0, 30), "housing", "email", "N", "A",  # 31 October 21:30 UTC: belongs to 1 November
     {"due": msk(12, 1, 0, 30), "first": msk(11, 2, 9, 30), "answered": msk(11, 2, 12, 30)}),
    ("c1", msk(11, 3), "housing", "bot", "N", "A",
     {"due": msk(11, 13), "first": msk(11, 3, 12), "answered": msk(11, 5), "address": "ул. Ленина, д. 5"}),
    ("c2", msk(11, 4, 9), "housing", "pos", "N", "A",
     {"due": msk(11, 14, 9), "first": msk(11, 4, 13), "answered": msk(11, 16, 9), "address": "улица Ленина 7"}),
    ("c3", msk(11, 5, 15), "roads", "im", "V", "A",
     {"due": msk(11, 6, 15), "first": msk(11, 5, 16), "answered": msk(11, 6, 11), "address": "ул. Садовая, 12"}),
    ("c4", msk(11, 10, 8), "roads", "im", "V", "A",
     {"due": msk(11, 11, 8), "first": msk(11, 10, 9), "answered": msk(11, 10, 14), "address": "ул. Садовая, 12",
          "repeat_of": "c3"}),
    ("c5", msk(11, 12, 11), "education", "bot", "N", "B",
     {"due": msk(12, 12, 11), "first": msk(11, 13, 11), "answered": msk(11, 20, 11)}),
    ("c6", msk(11, 15, 12), "education", "pos", "N", "B",
     {"status": "in_work", "due": msk(11, 25, 12), "first": msk(11, 16, 12)}),
    ("d1", msk(11, 7), "housing", "bot", "N", None, {"status": "received", "draft": True}),  # not an item yet
    ("d2", msk(11, 8), "roads", "bot", "N", None, {"status": "withdrawn", "draft": True}),  # withdrawn unconfirmed
    ("c11", msk(11, 18), "roads", "im", "N", "B", {"status": "withdrawn", "due": msk(11, 19)}),
    ("c7", msk(11, 20), "housing", "bot", "V", "A",
     {"due": msk(11, 30), "first": msk(11, 20, 11), "answered": msk(11, 25)}),
    ("c8", msk(11, 28, 23, 30), "housing", "bot", "N", "A",  # 23:30 Moscow on the 28th belongs to the 28th
     {"status": "assigned", "due": msk(12, 18), "address": "Ленина ул., 9"}),
    ("c9", msk(11, 30, 23, 30), "roads", "phone", "N", "A",  # the last minutes of the period count
     {"status": "assigned", "due": msk(12, 30), "address": "пер. Школьный 3"}),
    ("x1", msk(12, 1, 0, 30), "housing", "bot", "N", "A",  # 30 November 21:30 UTC: December in Moscow
     {"status": "assigned", "due": msk(12, 31)}),
    ("x2", msk(11, 27), "housing", "bot", "N", "A",  # its clock paused (waiting for the citizen) before the due
     {"status": "in_work", "due": msk(12, 5), "first": msk(11, 27, 11), "paused": msk(12, 1)}),
]
# (item, answered at, resolved, score, organisation)
SURVEYS = [
    ("p1", msk(10, 6), "yes", 5, "A"),
    ("c1", msk(11, 6), "yes", 5, "A"),
    ("p4", msk(11, 12), "no", 1, "B"),
    ("c2", msk(11, 17), "no", 2, "A"),
    ("c5", msk(11, 21), "partly", 3, "B"),
    ("c7", msk(11, 26), "yes", 4, "A"),
    ("x1", None, None, None, "A"),  # sent, not answered: not counted
]
# (item, at, action, field, old, new)
EVENTS = [
    ("c1", msk(11, 3, 10, 5), "route", "organisation", None, "A"),  # the first routing is no redirect
    ("c3", msk(11, 5, 15, 30), "route", "organisation", "B", "A"),  # redirected
    ("c3", msk(11, 5, 15, 30), "status", "status", "assigned", "redirected"),
    ("c7", msk(11, 20, 11), "reclassified", "topic", "roads", "housing"),
    ("c5", msk(11, 19), "review", None, None, "returned"),  # returned for rework (organisation B)
    ("c5", msk(11, 19, 12), "review", None, None, "approved"),
    ("p5", msk(11, 20), "status", "status", "delivered", "reopened"),  # reopened (organisation A)
    ("p2", msk(10, 26), "status", "status", "delivered", "reopened"),  # in October: not in November's ratings
]


async def build(sessionmaker: async_sessionmaker[AsyncSession]) -> Hand:
    async with sessionmaker() as session, session.begin():
        hand = await directory(session)
        orgs = {"A": hand.org_a, "B": hand.org_b}
        for name, received, topic, channel, settlement, org, extra in ITEMS:
            row = item(hand, name, received, topic, channel, settlement, org, **extra)
            session.add(row)
            await session.flush()
            hand.ids[name] = row.id
        for name, answered, resolved, score, org in SURVEYS:
            session.add(Survey(item_id=hand.ids[name], citizen_id=hand.citizen, organisation_id=orgs[org],
                               status="answered" if answered else "sent", resolved=resolved, score=score,
                               answered_at=answered, created_at=msk(9, 1)))
        for name, at, action, field_, old, new in EVENTS:
            old = str(orgs[old]) if field_ == "organisation" and old else old
            new = str(orgs[new]) if field_ == "organisation" and new else new
            session.add(ItemEvent(item_id=hand.ids[name], at=at, action=action, actor_kind="staff", field=field_,
                                  old_value=old, new_value=new))
        # A curator, and a recipient of organisation B.
        await add_staff(session, telegram_id=9001, roles=[Role.curator], name="Куратор")
        recipient, _ = await add_staff(session, telegram_id=9002, roles=[Role.recipient], name="Исполнитель Б")
        recipient.organisation_id = hand.org_b
    return hand

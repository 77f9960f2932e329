"""Problems: the street normaliser, grouping theme × settlement × street, the trend."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from core.problems import street_of
from core.report_model import Period, Scope
from core.reports import build_report
from db.models import Item, Theme
from tests.reports.hand import MSK, NOVEMBER, NOW, build, directory, item, msk


@pytest.mark.parametrize(("address", "street"), [
    ("ул. Ленина, д. 5", "Ленина"),
    ("улица Ленина 5", "Ленина"),
    ("Ленина ул", "Ленина"),
    ("Ленина ул., 9", "Ленина"),
    ("УЛ.ЛЕНИНА,5А", "Ленина"),
    ("с. Высокое, ул. Садовая, д. 12, кв. 3", "Садовая"),
    ("Новодугино, Ленина 5", "Ленина"),
    ("д. Тесово, Центральная 3", "Центральная"),
    ("пр-т Мира 10", "Мира"),
    ("пер. Школьный, 3", "Школьный"),
    ("ул. 8 Марта, 3", "8 Марта"),
    ("ул. Карла Маркса д. 5", "Карла Маркса"),
    ("возле дома 5 по ул. Молодёжная", "Молодежная"),
    ("яма на Заречной улице", "Заречной"),
    ("Новодугино", None),
    ("возле школы", None),
    ("", None),
    (None, None),
])
def test_street_of(address: str | None, street: str | None) -> None:
    assert street_of(address) == street


async def report(sessionmaker, period: Period = NOVEMBER, scope: Scope | None = None):
    async with sessionmaker() as session:
        return await build_report(session, period, scope or Scope(), now=NOW)


async def test_problems_of_the_hand_district(sessionmaker) -> None:
    await build(sessionmaker)
    problems = (await report(sessionmaker)).problems
    by_key = {(p.theme, p.settlement, p.street): (p.count, p.previous, p.trend) for p in problems}
    assert by_key == {
        # c1 «ул. Ленина, д. 5», c2 «улица Ленина 7», c8 «Ленина ул., 9»; October: p1 «ул. Ленина, 3».
        ("ЖКХ", "Новодугино", "Ленина"): (3, 1, "up"),
        # c3 and its repeat c4; October: p2 «Садовая ул. 12», p7 «ул. Садовая».
        ("Дороги", "Высокое", "Садовая"): (2, 2, "same"),
        # No street known: c5 c6 (October p4); c10 x2 (October p6).
        ("Образование", "Новодугино", None): (2, 1, "up"),
        ("ЖКХ", "Новодугино", None): (2, 1, "up"),
    }
    assert (problems[0].theme, problems[0].count) == ("ЖКХ", 3)


async def test_fifteen_reports_of_one_pothole_are_one_problem(sessionmaker) -> None:
    spellings = ["ул. Ленина, д. 5", "улица Ленина 5", "Ленина ул", "Новодугино, ул. Ленина, 7", "ЛЕНИНА УЛ. 5"]
    async with sessionmaker() as session, session.begin():
        hand = await directory(session)
        pothole = await session.scalar(select(Theme.id).where(Theme.name == "Ямы и выбоины на дороге"))
        rows = []
        # 15 in November, 4 in October, on one street; 2 on another street; 1 elsewhere.
        for n in range(15):
            rows.append(item(hand, f"n{n}", msk(11, 1 + n, 9 + n % 8), "roads", "bot", "N", "A",
                             address=spellings[n % len(spellings)]))
        for n in range(4):
            rows.append(item(hand, f"o{n}", msk(10, 10 + n), "roads", "pos", "N", "A", address="ул. Ленина, 1"))
        rows += [item(hand, "s1", msk(11, 3), "roads", "bot", "N", "A", address="ул. Советская, 2"),
                 item(hand, "s2", msk(11, 4), "roads", "im", "N", "A", address="Советская 4"),
                 item(hand, "v1", msk(11, 4), "roads", "bot", "V", "A", address="ул. Ленина, 5")]
        for row in rows:
            row.theme_id = pothole
            session.add(row)
            await session.flush()
            hand.ids[row.number] = row.id
    problems = (await report(sessionmaker)).problems
    assert [(p.theme, p.settlement, p.street, p.count, p.previous, p.trend) for p in problems] == [
        ("Ямы и выбоины на дороге", "Новодугино", "Ленина", 15, 4, "up"),
        ("Ямы и выбоины на дороге", "Новодугино", "Советская", 2, 0, "new"),
    ]
    # The newest five numbers first (the 15th report was received last).
    async with sessionmaker() as session:
        newest = (await session.scalars(select(Item.number).where(Item.address.is_not(None), Item.settlement_id ==
                                                                   hand.novodugino, Item.received_at >= msk(11, 1))
                                        .where(Item.address.not_like("%Советская%"))
                                        .order_by(Item.received_at.desc()).limit(5))).all()
    assert problems[0].numbers == list(newest)
    # Nothing in December; fewer reports later in November: the trend goes down.
    december = Period(date(2026, 12, 1), date(2026, 12, 30), MSK)
    assert (await report(sessionmaker, december)).problems == []
    # 12–30 November: n11 … n14 = 4; the 19 days before (24.10–11.11): n0 … n10 = 11.
    later = Period(date(2026, 11, 12), NOVEMBER.end, MSK)
    first = (await report(sessionmaker, later)).problems[0]
    assert (first.street, first.count, first.previous, first.trend) == ("Ленина", 4, 11, "down")

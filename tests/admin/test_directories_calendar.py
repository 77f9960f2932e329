"""/directories/calendar: the production calendar with the centre's overrides; an override changes the
deadlines the program computes."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

from sqlalchemy import select

from core.deadlines import load_deadline_context
from db.models import CalendarOverride, Role
from tests.admin.dir_helpers import (
    audit_entries,
    follow,
    post,
    sign_in,
    strip_tags,
    text_of,
)

MOSCOW = "Europe/Moscow"


def _due(page: str) -> str:
    found = re.search(r'<b class="due">([^<]+)</b>', page)
    assert found, page[-2000:]
    return found.group(1)


async def test_the_year_shows_holidays_and_transfers(admin_client, make_staff):
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get("/directories/calendar?year=2026"))
    assert "Рабочий календарь 2026" in page and "Рабочих дней в году: <b>247</b>" in page
    assert 'class="day off holiday" title="Новогодние каникулы">1</td>' in page
    assert page.count("<caption>") == 12
    assert (await admin_client.get("/directories/calendar?year=abc")).status == 200  # falls back to this year


async def test_an_override_moves_a_computed_deadline(admin_client, make_staff, sessionmaker):
    curator = await sign_in(admin_client, make_staff, Role.curator)
    ask = "/directories/calendar?year=2026&start=2026-05-12&time=10:00&duration=3wd"
    assert _due(await text_of(await admin_client.get(ask))) == "15.05.2026 18:00"

    response = await post(admin_client, "/directories/calendar",
                          {"day": "2026-05-14", "kind": "off", "note": "День села"})
    assert response.headers["Location"] == "/directories/calendar?year=2026"
    page = await follow(admin_client, response)
    assert "14.05.2026 теперь выходной." in page and "День села" in page
    assert 'class="day off override" title="День села">14</td>' in page
    assert _due(await text_of(await admin_client.get(ask))) == "18.05.2026 18:00"
    # The same calendar the intake uses for an item's deadlines.
    async with sessionmaker() as session:
        context = await load_deadline_context(session, MOSCOW)
        start = datetime(2026, 5, 12, 7, 0, tzinfo=UTC)
        assert context.calendar.add(start, "3wd").date() == date(2026, 5, 18)
    [entry] = await audit_entries(sessionmaker, "calendar_override.set")
    assert (entry.staff_id, entry.ip) == (curator.id, "127.0.0.1")

    response = await post(admin_client, "/directories/calendar/remove", {"day": "2026-05-14"})
    assert "Поправка на 14.05.2026 удалена" in await follow(admin_client, response)
    assert _due(await text_of(await admin_client.get(ask))) == "15.05.2026 18:00"
    assert len(await audit_entries(sessionmaker, "calendar_override.remove")) == 1


async def test_a_working_saturday(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.head)
    response = await post(admin_client, "/directories/calendar", {"day": "2026-05-16", "kind": "working", "note": ""})
    assert "16.05.2026 теперь рабочий день." in await follow(admin_client, response)
    async with sessionmaker() as session:
        row = await session.get(CalendarOverride, date(2026, 5, 16))
        assert row is not None and row.is_working and row.note is None


async def test_bad_overrides_are_refused(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.curator)
    response = await post(admin_client, "/directories/calendar", {"day": "2026-05-13", "kind": "working",
                                                                  "note": "лишнее"})
    page = await text_of(response)
    assert response.status == 400 and "По производственному календарю 13.05.2026 и так рабочий день" in page
    assert 'value="2026-05-13"' in page and 'value="лишнее"' in page
    response = await post(admin_client, "/directories/calendar", {"day": "13 мая", "kind": "off"})
    assert response.status == 400 and "Укажите дату, например 2026-05-04." in await text_of(response)
    response = await post(admin_client, "/directories/calendar/remove", {"day": "2026-05-13"})
    assert response.status == 400 and "На 13.05.2026 поправки нет." in await text_of(response)
    page = strip_tags(await text_of(await admin_client.get(
        "/directories/calendar?start=2026-05-12&duration=3 недели")))
    assert "Срок пишется числом и единицей" in page
    async with sessionmaker() as session:
        assert (await session.scalars(select(CalendarOverride))).all() == []
    assert await audit_entries(sessionmaker, "calendar_override.set") == []

"""Staff overrides stored in `calendar_overrides` change the deadlines (SQLite, or PostgreSQL in CI)."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from core.calendar import load_calendar
from db.models import CalendarOverride

MSK = ZoneInfo("Europe/Moscow")
FILED = datetime(2026, 4, 30, 15, 0, tzinfo=MSK)  # Thursday


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


async def test_no_overrides(sessionmaker):
    async with sessionmaker() as session:
        cal = await load_calendar(session, MSK)
    assert cal.overrides == {}
    assert cal.working_days_in_year(2026) == 247
    assert cal.add(FILED, "10wd") == msk(2026, 5, 18, 18, 0)


async def test_overrides_from_the_database_change_deadlines(sessionmaker):
    async with sessionmaker() as session, session.begin():
        session.add_all([
            CalendarOverride(day=date(2026, 5, 2), is_working=True, note="Субботник"),  # an extra working day
            CalendarOverride(day=date(2026, 5, 18), is_working=False),  # an extra day off
            CalendarOverride(day=date(2026, 6, 1), is_working=False, note="День защиты детей"),
        ])
    async with sessionmaker() as session:
        cal = await load_calendar(session, "Europe/Moscow")
        moving = await load_calendar(session, MSK, move_to_working_day=True)

    assert cal.is_working_day(date(2026, 5, 2)) and not cal.is_working_day(date(2026, 5, 18))
    assert cal.working_days_in_year(2026) == 247 + 1 - 2
    # 8 wh: 3 h on Thursday, then Saturday 2 May (now working) from 09:00.
    assert cal.add(FILED, "8wh") == msk(2026, 5, 2, 14, 0)
    # 10 wd: 2, 4–8, 12–15 May.
    assert cal.add(FILED, "10wd") == msk(2026, 5, 15, 18, 0)
    # 11 wd: 18 May is off now, so 19 May.
    assert cal.add(FILED, "11wd") == msk(2026, 5, 19, 18, 0)
    # 30 d lands on Saturday 30 May; moving skips 31 May and the extra day off 1 June.
    assert cal.add(FILED, "30d") == msk(2026, 5, 30, 15, 0)
    assert moving.add(FILED, "30d") == msk(2026, 6, 2, 15, 0)
    off = {d.day: d for d in cal.days_off(2026)}
    assert off[date(2026, 6, 1)].name == "День защиты детей" and off[date(2026, 6, 1)].override
    assert off[date(2026, 5, 18)].name is None and off[date(2026, 5, 18)].override


async def test_an_override_can_cancel_a_transferred_day_off(sessionmaker):
    async with sessionmaker() as session, session.begin():
        session.add(CalendarOverride(day=date(2026, 1, 9), is_working=True))
        session.add(CalendarOverride(day=date(2026, 1, 8), is_working=False))  # agrees with the library
    async with sessionmaker() as session:
        cal = await load_calendar(session, MSK)
    assert cal.is_working_day(date(2026, 1, 9))
    assert cal.working_days_in_year(2026) == 248
    assert cal.add_working_days(datetime(2025, 12, 30, 10, tzinfo=MSK), 1) == msk(2026, 1, 9, 18, 0)
    assert not any(d.override for d in cal.days_off(2026))  # 8 January was off anyway

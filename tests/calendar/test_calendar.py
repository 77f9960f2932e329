"""The working calendar without a database: the library's facts, deadlines, time zones, parsing."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

import core.calendar as calendar_module
from core.calendar import Duration, Unit, WorkingCalendar, parse_duration

MSK = ZoneInfo("Europe/Moscow")
# The example item: 30 April 2026, 15:00 in Moscow. It is a THURSDAY (1 May 2026 is a Friday).
FILED = datetime(2026, 4, 30, 15, 0, tzinfo=MSK)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


# The production calendar as the `holidays` package gives it


def test_working_days_per_year(cal):
    assert cal.working_days_in_year(2025) == 247
    assert cal.working_days_in_year(2026) == 247


def test_transfers(cal):
    assert date(2025, 11, 1).weekday() == 5 and cal.is_working_day(date(2025, 11, 1))  # a working Saturday
    assert not cal.is_working_day(date(2025, 11, 3)) and not cal.is_working_day(date(2025, 11, 4))
    assert date(2026, 1, 9).weekday() == 4 and not cal.is_working_day(date(2026, 1, 9))  # a Friday off
    assert not cal.is_working_day(date(2026, 12, 31))
    assert cal.is_working_day(date(2026, 1, 12))
    assert cal.working_weekends(2025) == [date(2025, 11, 1)]
    assert cal.working_weekends(2026) == []


def test_may_2026(cal):
    off = {d.day for d in range_days(date(2026, 5, 1), date(2026, 5, 11)) if not cal.is_working_day(d)}
    assert off == {1, 2, 3, 9, 10, 11}
    assert all(cal.is_working_day(date(2026, 5, d)) for d in range(4, 9))
    names = {d.day: d.name for d in cal.days_off(2026)}
    assert names[date(2026, 5, 1)] == "Праздник Весны и Труда"
    assert names[date(2026, 5, 9)] == "День Победы"
    assert names[date(2026, 5, 11)] == "День Победы (выходной)"
    assert names[date(2026, 5, 2)] is None  # a plain Saturday


def test_days_off_list(cal):
    days = cal.days_off(2026)
    assert len(days) == 365 - 247
    assert [d.day for d in days] == sorted(d.day for d in days)
    assert days[0].day == date(2026, 1, 1) and days[0].name == "Новогодние каникулы"
    named = {d.day: d.name for d in days}
    assert named[date(2026, 1, 9)] == "Выходной (перенесено с 03.01.2026)"
    assert not any(d.override for d in days)


def range_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_example_day_is_a_thursday():
    assert FILED.strftime("%A") == "Thursday"


# Deadlines for the item filed on Thursday 30.04.2026 15:00 MSK


def test_calendar_days(cal):
    due = cal.add(FILED, "30d")
    assert due == msk(2026, 5, 30, 15, 0) and due.tzinfo is UTC  # a Saturday: stays without moving
    assert cal.add_calendar_days(FILED, 30, move_to_working_day=True) == msk(2026, 6, 1, 15, 0)
    moving = WorkingCalendar(move_to_working_day=True)
    assert moving.add(FILED, "30d") == msk(2026, 6, 1, 15, 0)
    assert moving.add_calendar_days(FILED, 30, move_to_working_day=False) == msk(2026, 5, 30, 15, 0)
    # A working day is not moved; 0 days is the start itself, moved off a day off when asked.
    assert moving.add(FILED, "4d") == msk(2026, 5, 4, 15, 0)
    assert cal.add(FILED, "0d") == FILED
    assert moving.add_calendar_days(datetime(2026, 5, 1, 10, tzinfo=MSK), 0) == msk(2026, 5, 4, 10, 0)


def test_working_days(cal):
    # 1–3 May off, 4–8 May working (5), 9–11 off, 12–15 (9), 16–17 weekend, 18 May is the 10th.
    assert cal.add(FILED, "10wd") == msk(2026, 5, 18, 18, 0)
    assert cal.add(FILED, "1wd") == msk(2026, 5, 4, 18, 0)
    assert WorkingCalendar(move_to_working_day=True).add(FILED, "10wd") == msk(2026, 5, 18, 18, 0)


def test_working_days_do_not_count_the_start_day(cal):
    for hour, minute in ((0, 0), (8, 0), (12, 0), (23, 59)):
        assert cal.add_working_days(datetime(2026, 4, 29, hour, minute, tzinfo=MSK), 1) == msk(2026, 4, 30, 18, 0)
    # Filed on a day off: the first working day after it is the 1st.
    assert cal.add_working_days(datetime(2026, 5, 2, 12, tzinfo=MSK), 1) == msk(2026, 5, 4, 18, 0)
    assert cal.add_working_days(FILED, 0) == FILED


def test_working_days_across_new_year(cal):
    # 31.12.2025 and 1–9.01.2026 are off (9 January by transfer), 10–11 a weekend.
    assert cal.add_working_days(datetime(2025, 12, 30, 10, tzinfo=MSK), 3) == msk(2026, 1, 14, 18, 0)


def test_working_hours(cal):
    # 15:00–18:00 on Thursday (3 h), then 1–3 May off: Monday 4 May 09:00 + 5 h.
    assert cal.add(FILED, "8wh") == msk(2026, 5, 4, 14, 0)
    assert WorkingCalendar(move_to_working_day=True).add(FILED, "8wh") == msk(2026, 5, 4, 14, 0)


def test_working_hours_edges(cal):
    thursday = date(2026, 4, 30)
    at = lambda h, m=0, day=thursday: datetime.combine(day, time(h, m), tzinfo=MSK)  # noqa: E731
    assert cal.add_working_hours(at(15), 3) == msk(2026, 4, 30, 18, 0)  # ends at closing, stays there
    assert cal.add_working_hours(at(9), 9) == msk(2026, 4, 30, 18, 0)
    assert cal.add_working_hours(at(9), 10) == msk(2026, 5, 4, 10, 0)
    assert cal.add_working_hours(at(7), 1) == msk(2026, 4, 30, 10, 0)  # before opening: from 09:00
    assert cal.add_working_hours(at(18), 1) == msk(2026, 5, 4, 10, 0)  # at closing: next opening
    assert cal.add_working_hours(at(22), 0) == msk(2026, 5, 4, 9, 0)  # zero: the start of counting
    assert cal.add_working_hours(at(10, 30, date(2026, 5, 9)), 2) == msk(2026, 5, 12, 11, 0)  # from a holiday
    assert cal.add_working_hours(at(16), 0.5) == msk(2026, 4, 30, 16, 30)
    # 2 h on Thursday, 45 h on 4–8 May (ends at Friday's closing), 9–11 May off.
    assert cal.add_working_hours(at(16), 2 + 9 * 5) == msk(2026, 5, 8, 18, 0)
    assert cal.add_working_hours(at(16), 2 + 9 * 5 + 2) == msk(2026, 5, 12, 11, 0)


def test_office_hours_are_configurable():
    cal = WorkingCalendar(office_start=time(8, 0), office_end=time(17, 0))
    assert cal.add(FILED, "8wh") == msk(2026, 5, 4, 14, 0)  # 2 h on Thursday, 6 h from 08:00
    assert cal.add(FILED, "1wd") == msk(2026, 5, 4, 17, 0)
    with pytest.raises(ValueError, match="open before"):
        WorkingCalendar(office_start=time(18), office_end=time(9))


# Time zones


def test_input_in_utc_is_read_in_the_district_zone(cal):
    wednesday_2330 = datetime(2026, 4, 29, 20, 30, tzinfo=UTC)  # 23:30 MSK, still Wednesday 29 April
    thursday_0030 = datetime(2026, 4, 29, 21, 30, tzinfo=UTC)  # 00:30 MSK: already Thursday 30 April
    assert cal.local_date(wednesday_2330) == date(2026, 4, 29)
    assert cal.local_date(thursday_0030) == date(2026, 4, 30)
    assert cal.add_working_days(wednesday_2330, 1) == msk(2026, 4, 30, 18, 0)
    assert cal.add_working_days(thursday_0030, 1) == msk(2026, 5, 4, 18, 0)
    # 21:30 UTC on 30 April is 1 May in Moscow: a holiday, although the UTC date is a working day.
    assert not cal.is_working_day(datetime(2026, 4, 30, 21, 30, tzinfo=UTC))
    assert cal.is_working_day(datetime(2026, 4, 30, 20, 59, tzinfo=UTC))
    # 05:30 UTC is 08:30 MSK, before opening: counting starts at 09:00 MSK (06:00 UTC).
    assert cal.add_working_hours(datetime(2026, 4, 30, 5, 30, tzinfo=UTC), 1) == datetime(2026, 4, 30, 7, 0, tzinfo=UTC)
    # Same-day evening in UTC terms, next morning in Moscow: calendar days keep the Moscow wall time.
    assert cal.add_calendar_days(datetime(2026, 4, 29, 21, 30, tzinfo=UTC), 1) == msk(2026, 5, 1, 0, 30)


def test_other_zones_of_input_and_of_the_district():
    vladivostok = ZoneInfo("Asia/Vladivostok")  # UTC+10: 08:00 there is 01:00 MSK of the same day
    assert WorkingCalendar().add_working_hours(datetime(2026, 4, 30, 16, tzinfo=vladivostok), 1) == msk(2026, 4, 30, 10, 0)
    district = WorkingCalendar(vladivostok)
    assert district.add_working_days(datetime(2026, 4, 30, 15, 30, tzinfo=UTC), 1) == datetime(
        2026, 5, 4, 18, tzinfo=vladivostok)  # already 1 May there
    berlin = WorkingCalendar("Europe/Berlin")  # a zone with summer time: 29.03.2026 has 23 hours
    due = berlin.add_calendar_days(datetime(2026, 3, 28, 12, tzinfo=ZoneInfo("Europe/Berlin")), 1)
    assert due == datetime(2026, 3, 29, 10, 0, tzinfo=UTC)


def test_naive_and_negative_are_refused(cal):
    with pytest.raises(ValueError, match="naive"):
        cal.add(datetime(2026, 4, 30, 15), "1d")
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(FILED, -1)
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_hours(FILED, -0.5)


# Staff overrides (in memory; the database path is in test_overrides_db.py)


def test_overrides_win_over_the_library():
    cal = WorkingCalendar(overrides={date(2026, 5, 5): False, date(2026, 5, 2): True, date(2026, 1, 9): True},
                          notes={date(2026, 5, 5): "День города"})
    assert not cal.is_working_day(date(2026, 5, 5))
    assert cal.is_working_day(date(2026, 5, 2)) and cal.is_working_day(date(2026, 1, 9))
    assert cal.working_days_in_year(2026) == 247 - 1 + 2
    off = {d.day: d for d in cal.days_off(2026)}
    assert off[date(2026, 5, 5)].name == "День города" and off[date(2026, 5, 5)].override
    assert date(2026, 1, 9) not in off
    assert cal.working_weekends(2026) == [date(2026, 5, 2)]
    assert cal.add(FILED, "8wh") == msk(2026, 5, 2, 14, 0)
    assert WorkingCalendar(overrides={date(2026, 5, 5): False}).add(FILED, "10wd") == msk(2026, 5, 19, 18, 0)
    assert WorkingCalendar(overrides={date(2026, 5, 2): True}).add(FILED, "10wd") == msk(2026, 5, 15, 18, 0)


def test_a_year_is_computed_once(monkeypatch):
    calls = []
    real = calendar_module.holidays.country_holidays

    def counting(*args, **kwargs):
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    monkeypatch.setattr(calendar_module.holidays, "country_holidays", counting)
    calendar_module._library_year.cache_clear()
    try:
        cal = WorkingCalendar()
        for _ in range(3):
            cal.add(FILED, "200wd")
            WorkingCalendar().working_days_in_year(2026)
        assert len(calls) == 2  # 2026 and 2027, each once, shared by every calendar
    finally:
        calendar_module._library_year.cache_clear()


# Durations


@pytest.mark.parametrize(("text", "expected"), [
    ("30d", Duration(30, Unit.calendar_days)),
    ("10 wd", Duration(10, Unit.working_days)),
    ("8wh", Duration(8, Unit.working_hours)),
    ("+10WD", Duration(10, Unit.working_days)),
    ("  0 d ", Duration(0, Unit.calendar_days)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected
    assert str(expected) == f"{expected.amount}{expected.unit.value}"


@pytest.mark.parametrize(("text", "reason"), [
    ("5x", "unknown unit 'x'"),
    ("", "expected a whole number"),
    ("wd", "expected a whole number"),
    ("-5d", "expected a whole number"),
    ("5.5wh", "expected a whole number"),
    ("10 w d", "expected a whole number"),
    ("99999d", "at most"),
])
def test_parse_duration_refuses(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)

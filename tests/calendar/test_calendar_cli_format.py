"""`mcu calendar` input parsing and output, in process (the command itself: test_calendar_cli.py)."""
from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from core.calendar import WorkingCalendar, parse_duration
from mcu.calendar_cli import (
    CalendarInputError,
    format_deadline,
    format_year,
    parse_office_hours,
    parse_start,
    parse_year,
    plural,
)

MSK = ZoneInfo("Europe/Moscow")


def deadline(when: str, duration: str, cal: WorkingCalendar | None = None) -> str:
    return format_deadline(cal or WorkingCalendar(MSK), parse_start(when, MSK), parse_duration(duration))


@pytest.mark.parametrize(("when", "duration", "expected"), [
    ("2026-04-30 15:00", "+8wh", "Срок истекает: 04.05.2026 14:00, пн"),
    ("2026-04-30", "+8wh", "Срок истекает: 30.04.2026 17:00, чт"),  # a bare date counts from the opening
    ("2026-04-30 15:00", "+30d", "Срок истекает: 30.05.2026 15:00, сб (выходной день)"),
    ("2026-04-30", "+4d", "Срок истекает: 04.05.2026, пн"),
    ("2026-04-29T20:30Z", "+1wd", "Срок истекает: 30.04.2026, чт, в конце рабочего дня (18:00)"),
    ("2026-04-29T21:30+00:00", "+1wd", "Срок истекает: 04.05.2026, пн, в конце рабочего дня (18:00)"),
    ("2026-04-30T15:00+10:00", "+1wh", "Срок истекает: 30.04.2026 10:00, чт"),  # 08:00 MSK → from 09:00
])
def test_deadline_output(when, duration, expected):
    assert expected in deadline(when, duration)


def test_deadline_output_headers():
    assert deadline("2026-04-30 15:00", "+30d").startswith(
        "Начало: 30.04.2026 15:00, чт (Europe/Moscow); срок: 30 календарных дней")
    assert "срок: 1 рабочий день" in deadline("2026-04-30", "+1wd")
    assert "срок: 2 рабочих часа" in deadline("2026-04-30", "+2wh")
    assert "срок: 21 календарный день" in deadline("2026-04-30", "+21d")
    assert "в конце рабочего дня (17:00)" in deadline(
        "2026-04-30", "+1wd", WorkingCalendar(MSK, office_start=time(8), office_end=time(17)))


def test_plural():
    assert [plural(n, "день", "дня", "дней") for n in (1, 2, 5, 11, 12, 21, 22, 25, 111, 0)] == [
        "день", "дня", "дней", "дней", "дней", "день", "дня", "дней", "дней", "дней"]


def test_parsers():
    assert parse_year("2026") == 2026 and parse_year("2026-04-30") is None
    assert parse_start("2026-04-30", MSK).moment == datetime(2026, 4, 30, tzinfo=MSK)
    assert not parse_start("2026-04-30", MSK).has_time
    start = parse_start("2026-04-29T21:30Z", MSK)
    assert start.has_time and start.moment == datetime(2026, 4, 29, 21, 30, tzinfo=UTC)
    assert parse_office_hours(None) == (time(9), time(18))
    assert parse_office_hours("8:30-17:15") == (time(8, 30), time(17, 15))


@pytest.mark.parametrize(("call", "reason"), [
    (lambda: parse_year("1990"), "out of range"),
    (lambda: parse_start("20x6", MSK), "bad year or date"),
    (lambda: parse_start("2026-4-30", MSK), "bad year or date"),
    (lambda: parse_start("2026-04-30 25:00", MSK), "bad date"),
    (lambda: parse_start("2026-04-31", MSK), "bad date"),
    (lambda: parse_office_hours("09:00"), "bad office hours"),
    (lambda: parse_office_hours("09:00-24:00"), "bad office hours"),
    (lambda: parse_office_hours("10:00-10:00"), "must open before"),
])
def test_parsers_refuse(call, reason):
    with pytest.raises(CalendarInputError, match=reason):
        call()


def test_year_output_marks_overrides():
    cal = WorkingCalendar(MSK, overrides={date(2026, 5, 2): True, date(2026, 6, 1): False},
                          notes={date(2026, 6, 1): "День защиты детей"})
    out = format_year(cal, 2026)
    assert "  01.06.2026 пн  выходной по решению МЦУ: День защиты детей" in out
    assert "Рабочие субботы и воскресенья: 02.05.2026, сб" in out
    assert "Поправки МЦУ: 02.05.2026 — рабочий; 01.06.2026 — выходной (День защиты детей)" in out
    assert out.endswith("Рабочих дней: 247")

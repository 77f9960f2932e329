"""The working calendar: the Russian production calendar, staff overrides, office hours.

Deadlines are counted in business time of the district. All inputs are aware datetimes (a naive
one is refused), computation happens in the district's zone, results are aware UTC.

Which days are working:

1. a staff override (`CalendarOverride`: day → is_working) wins;
2. otherwise the `holidays` package (country RU, Russian names): a Saturday or Sunday is a day off
   unless the Government moved a working day onto it (`weekend_workdays`, e.g. 01.11.2025);
   a weekday is working unless it is a holiday or a transferred day off (e.g. 09.01.2026).

Shortened pre-holiday days are not modelled: every working day has the same office hours.

Durations (`parse_duration`): ``"30d"`` calendar days, ``"10wd"`` working days, ``"8wh"`` working
hours; spaces and a leading ``+`` are allowed (``"+10 wd"``). What they mean:

* **N calendar days** — the same local wall-clock time N days later. With
  ``move_to_working_day`` a result that falls on a day off moves to the next working day, keeping
  the wall-clock time.
* **N working days** — the end of office hours (``office_end``, 18:00 by default) of the N-th
  working day *after* the local day of the start. The start day never counts, whatever the time
  of filing and whether or not it is a working day: an item filed on Thursday at 08:00 or at
  23:59 with 1 working day is due on Friday at 18:00 (if Friday is working).
* **N working hours** — only office hours of working days count. A start inside office hours
  counts from that moment; a start outside them (evening, night, day off) counts from the next
  office opening. A deadline that ends exactly at closing stays at closing (it does not jump to
  the next opening).

Zero is allowed and is the identity for calendar and working days (calendar days still move off
a day off when asked); for working hours zero gives the start of counting (the next opening
when filed outside office hours). Negative amounts are refused.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.routing import N_, _audit, _require, _text
from db.models import CalendarOverride

COUNTRY = "RU"
DEFAULT_TZ = "Europe/Moscow"
DEFAULT_OFFICE_START = time(9, 0)
DEFAULT_OFFICE_END = time(18, 0)
MAX_AMOUNT = 10_000  # a parsed duration longer than this is surely a typo
_MAX_SCAN_DAYS = 366 * 30  # safety net: a calendar with no working day ahead
_MIN_YEAR, _MAX_YEAR = 2, 9998  # the library looks one year around the asked one


class Unit(StrEnum):
    calendar_days = "d"
    working_days = "wd"
    working_hours = "wh"


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


_DURATION_RE = re.compile(r"^\+?\s*(\d+)\s*([a-z]+)$")


def parse_duration(text: str) -> Duration:
    """``"30d"``, ``"10 wd"``, ``"+8wh"`` → Duration; ValueError with a readable reason otherwise."""
    cleaned = str(text).strip().lower()
    match = _DURATION_RE.match(cleaned)
    if not match:
        raise ValueError(
            f"bad duration {text!r}: expected a whole number and a unit d (calendar days), "
            "wd (working days) or wh (working hours), e.g. 30d, 10wd, 8wh"
        )
    amount, unit = int(match.group(1)), match.group(2)
    try:
        parsed_unit = Unit(unit)
    except ValueError:
        raise ValueError(
            f"bad duration {text!r}: unknown unit {unit!r}; use d (calendar days), "
            "wd (working days) or wh (working hours)"
        ) from None
    if amount > MAX_AMOUNT:
        raise ValueError(f"bad duration {text!r}: at most {MAX_AMOUNT}")
    return Duration(amount, parsed_unit)


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian form for the number: 1 день, 2 дня, 5 дней (11–14 take «many»)."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


UNIT_WORDS = {
    Unit.calendar_days: (N_("календарный день"), N_("календарных дня"), N_("календарных дней")),
    Unit.working_days: (N_("рабочий день"), N_("рабочих дня"), N_("рабочих дней")),
    Unit.working_hours: (N_("рабочий час"), N_("рабочих часа"), N_("рабочих часов")),
}


def duration_words(duration: Duration, _: Callable[[str], str] = str) -> str:
    """«10 рабочих дней» for ``10wd``; `_` translates the chosen form."""
    return f"{duration.amount} {_(plural(duration.amount, *UNIT_WORDS[duration.unit]))}"


@dataclass(frozen=True, slots=True)
class DayOff:
    day: date
    name: str | None  # the holiday's name (Russian) or the override's note; None for a plain weekend
    override: bool = False  # made a day off by a staff override


@dataclass(frozen=True, slots=True)
class _LibraryYear:
    days_off: frozenset[date]
    weekend_workdays: frozenset[date]
    names: Mapping[date, str]


def _days_of(year: int) -> Iterable[date]:
    day = date(year, 1, 1)
    while day.year == year:
        yield day
        day += timedelta(days=1)


def _check_year(year: int) -> None:
    if not isinstance(year, int) or isinstance(year, bool) or not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"year out of range: {year!r}")


@lru_cache(maxsize=128)
def _library_year(year: int) -> _LibraryYear:
    """The production calendar of one year, as the `holidays` package gives it (cached)."""
    # The neighbours are loaded too, so a transfer across New Year is seen from either side.
    calendar = holidays.country_holidays(COUNTRY, years=(year - 1, year, year + 1), language="ru")
    return _LibraryYear(
        days_off=frozenset(d for d in _days_of(year) if not calendar.is_working_day(d)),
        weekend_workdays=frozenset(d for d in calendar.weekend_workdays if d.year == year),
        names=MappingProxyType({d: str(n) for d, n in calendar.items() if d.year == year}),
    )


def _aware(dt: datetime) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime given; pass an aware datetime")
    return dt


def _check_amount(n: float) -> None:
    if n < 0:
        raise ValueError(f"a deadline cannot be negative: {n}")


class WorkingCalendar:
    """Working days and office hours of the district; see the module docstring for the rules."""

    def __init__(
        self,
        tz: ZoneInfo | str = DEFAULT_TZ,
        *,
        overrides: Mapping[date, bool] | None = None,
        notes: Mapping[date, str] | None = None,
        office_start: time = DEFAULT_OFFICE_START,
        office_end: time = DEFAULT_OFFICE_END,
        move_to_working_day: bool = False,
    ) -> None:
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        if office_start.tzinfo is not None or office_end.tzinfo is not None:
            raise ValueError("office hours are wall-clock times of the district; give naive times")
        if not office_start < office_end:
            raise ValueError(f"office hours must open before they close: {office_start}–{office_end}")
        self.office_start = office_start
        self.office_end = office_end
        self.move_to_working_day = move_to_working_day
        self.overrides: Mapping[date, bool] = MappingProxyType(
            {_plain_date(d): bool(v) for d, v in (overrides or {}).items()}
        )
        self.notes: Mapping[date, str] = MappingProxyType(
            {_plain_date(d): n for d, n in (notes or {}).items() if n}
        )
        self._years: dict[int, frozenset[date]] = {}

    def __repr__(self) -> str:
        return (f"WorkingCalendar({self.tz.key!r}, {self.office_start:%H:%M}–{self.office_end:%H:%M}, "
                f"{len(self.overrides)} overrides, move_to_working_day={self.move_to_working_day})")

    # Days

    def _days_off_set(self, year: int) -> frozenset[date]:
        cached = self._years.get(year)
        if cached is None:
            _check_year(year)
            off = set(_library_year(year).days_off)
            for day, working in self.overrides.items():
                if day.year == year:
                    (off.discard if working else off.add)(day)
            cached = self._years[year] = frozenset(off)
        return cached

    def local_date(self, dt: datetime) -> date:
        return _aware(dt).astimezone(self.tz).date()

    def is_working_day(self, day: date | datetime) -> bool:
        """A date, or an aware datetime taken as its local date in the district."""
        if isinstance(day, datetime):
            day = self.local_date(day)
        return day not in self._days_off_set(day.year)

    def working_days_in_year(self, year: int) -> int:
        off = self._days_off_set(year)
        return date(year, 12, 31).timetuple().tm_yday - len(off)

    def days_off(self, year: int) -> list[DayOff]:
        """Every non-working day of the year in order, with the holiday's name where known."""
        library = _library_year(year)
        return [
            DayOff(day, self.notes.get(day) or library.names.get(day),
                   override=self.overrides.get(day) is False and day not in library.days_off)
            for day in sorted(self._days_off_set(year))
        ]

    def working_weekends(self, year: int) -> list[date]:
        """Saturdays and Sundays that are working days (government transfers and overrides)."""
        return [d for d in _days_of(year) if d.weekday() >= 5 and self.is_working_day(d)]

    def holiday_name(self, day: date) -> str | None:
        return self.notes.get(day) or _library_year(day.year).names.get(day)

    def next_working_day(self, day: date, *, include: bool = False) -> date:
        """The first working day after `day` (or `day` itself when `include` and it is working)."""
        current = day if include else day + timedelta(days=1)
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_working_day(current):
                return current
            current += timedelta(days=1)
        raise ValueError(f"no working day within {_MAX_SCAN_DAYS} days after {day}")

    # Deadlines

    def _at(self, day: date, wall: time) -> datetime:
        return datetime.combine(day, wall, tzinfo=self.tz)

    def add_calendar_days(self, dt: datetime, n: int, *, move_to_working_day: bool | None = None) -> datetime:
        """The same local wall-clock time `n` days later; off a day off when moving is enabled."""
        _check_amount(n)
        local = _aware(dt).astimezone(self.tz)
        try:
            day = local.date() + timedelta(days=n)
        except OverflowError:
            raise ValueError(f"deadline out of range: {n} days after {local.date()}") from None
        move = self.move_to_working_day if move_to_working_day is None else move_to_working_day
        if move:
            day = self.next_working_day(day, include=True)
        return self._at(day, local.time().replace(tzinfo=None)).astimezone(UTC)

    def add_working_days(self, dt: datetime, n: int) -> datetime:
        """Office closing time of the n-th working day after the local day of `dt` (start day excluded)."""
        _check_amount(n)
        if n == 0:
            return _aware(dt).astimezone(UTC)
        day = self.local_date(dt)
        for _ in range(n):
            day = self.next_working_day(day)
        return self._at(day, self.office_end).astimezone(UTC)

    def start_of_counting(self, dt: datetime) -> datetime:
        """`dt` when it is inside office hours of a working day, else the next office opening (UTC)."""
        local = _aware(dt).astimezone(self.tz)
        day = local.date()
        if self.is_working_day(day):
            opening, closing = self._at(day, self.office_start), self._at(day, self.office_end)
            if local < opening:
                return opening.astimezone(UTC)
            if local < closing:
                return local.astimezone(UTC)
        return self._at(self.next_working_day(day), self.office_start).astimezone(UTC)

    def add_working_hours(self, dt: datetime, n: float) -> datetime:
        """`n` hours of office time of working days after `dt`; see the module docstring."""
        _check_amount(n)
        remaining = timedelta(hours=n)
        current = self.start_of_counting(dt)
        while True:
            day = current.astimezone(self.tz).date()
            closing = self._at(day, self.office_end).astimezone(UTC)
            available = closing - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self._at(self.next_working_day(day), self.office_start).astimezone(UTC)

    def add(self, dt: datetime, duration: Duration | str) -> datetime:
        if isinstance(duration, str):
            duration = parse_duration(duration)
        if duration.unit is Unit.calendar_days:
            return self.add_calendar_days(dt, duration.amount)
        if duration.unit is Unit.working_days:
            return self.add_working_days(dt, duration.amount)
        return self.add_working_hours(dt, duration.amount)


def _plain_date(value: date) -> date:
    # A datetime is a date too, but would never match a date in a set.
    return value.date() if isinstance(value, datetime) else value


async def load_overrides(session: AsyncSession) -> list[CalendarOverride]:
    return list((await session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))).all())


async def load_calendar(
    session: AsyncSession,
    tz: ZoneInfo | str = DEFAULT_TZ,
    *,
    office_start: time = DEFAULT_OFFICE_START,
    office_end: time = DEFAULT_OFFICE_END,
    move_to_working_day: bool = False,
) -> WorkingCalendar:
    """The working calendar with the staff overrides stored in `calendar_overrides`."""
    rows = await load_overrides(session)
    return WorkingCalendar(
        tz,
        overrides={row.day: row.is_working for row in rows},
        notes={row.day: row.note for row in rows if row.note},
        office_start=office_start,
        office_end=office_end,
        move_to_working_day=move_to_working_day,
    )


# --- staff overrides as the admin edits them -------------------------------------------------------------
# Refusals are `core.routing.RoutingError`s (a directory change that cannot be made), in words.

OVERRIDE_YEARS = (1991, 2100)  # the library's Russian calendar starts in 1991


def _override_snapshot(row: CalendarOverride | None) -> dict[str, object] | None:
    return None if row is None else {"is_working": row.is_working, "note": row.note}


async def set_override(session: AsyncSession, day: date, *, is_working: bool, note: str | None = None,
                       staff_id: int | None, now: datetime) -> CalendarOverride:
    """Make the day working or a day off whatever the production calendar says; replaces the day's
    override. An override that says what the calendar already says is refused: it would hide a
    later correction of the law's calendar."""
    day = _plain_date(day)
    low, high = OVERRIDE_YEARS
    _require(low <= day.year <= high, N_("Год — от {low} до {high}."), low=low, high=high)
    note = _text(note, 256, N_("пояснение"))
    by_law = day not in _library_year(day.year).days_off
    _require(by_law != is_working,
             N_("По производственному календарю {day} и так рабочий день: поправка не нужна.") if is_working else
             N_("По производственному календарю {day} и так выходной: поправка не нужна."),
             day=f"{day:%d.%m.%Y}")
    row = await session.get(CalendarOverride, day)
    old = _override_snapshot(row)
    if row is None:
        row = CalendarOverride(day=day, is_working=is_working, note=note)
        session.add(row)
    else:
        row.is_working, row.note = is_working, note
    new = _override_snapshot(row)
    if old != new:
        await session.flush()
        _audit(session, "calendar_override.set", "calendar_override", day.toordinal(), staff_id=staff_id, now=now,
               old=old, new={"day": day.isoformat(), **(new or {})})
    return row


async def remove_override(session: AsyncSession, day: date, *, staff_id: int | None, now: datetime) -> None:
    """The day is again as the production calendar says."""
    day = _plain_date(day)
    row = await session.get(CalendarOverride, day)
    _require(row is not None, N_("На {day} поправки нет."), day=f"{day:%d.%m.%Y}")
    assert row is not None
    old = {"day": day.isoformat(), **(_override_snapshot(row) or {})}
    await session.delete(row)
    await session.flush()
    _audit(session, "calendar_override.remove", "calendar_override", day.toordinal(), staff_id=staff_id, now=now,
           old=old, new=None)

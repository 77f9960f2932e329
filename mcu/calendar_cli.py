"""`mcu calendar`: the production calendar of a year, or a deadline from a date.

    mcu calendar 2026                      days off by month and the number of working days
    mcu calendar 2026-04-30 +10wd          the deadline, in the district's time zone
    mcu calendar "2026-04-30 17:00" +8wh

Staff overrides stored in the database are applied. Bad input raises CalendarInputError
(`mcu.cli` turns it into one line and exit code 2).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core.calendar import (
    DEFAULT_OFFICE_END,
    DEFAULT_OFFICE_START,
    Duration,
    Unit,
    WorkingCalendar,
    duration_words,
    load_calendar,
    parse_duration,
    plural,  # noqa: F401 — moved to core; tests and older callers import it from here
)
from core.settings import Settings

MIN_YEAR, MAX_YEAR = 1991, 2100  # the library's Russian calendar starts in 1991
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
MONTHS = ("Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь",
          "Октябрь", "Ноябрь", "Декабрь")
_YEAR_RE = re.compile(r"^\d{4}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_HOURS_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")


class CalendarInputError(ValueError):
    """Bad command-line input, explained in one line."""


@dataclass(frozen=True)
class Start:
    moment: datetime  # aware
    has_time: bool


def parse_year(text: str) -> int | None:
    """The year, or None when the text is not a bare year at all."""
    if not _YEAR_RE.match(text):
        return None
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarInputError(f"year {year} is out of range {MIN_YEAR}–{MAX_YEAR}")
    return year


def parse_start(text: str, tz: ZoneInfo) -> Start:
    """``2026-04-30``, ``2026-04-30 17:00`` (the district's time) or with an offset (``…T14:00Z``)."""
    cleaned = text.strip()
    problem = "expected a year (2026) or a date YYYY-MM-DD, optionally with time HH:MM"
    if not _DATE_RE.match(cleaned):
        raise CalendarInputError(f"bad year or date {text!r}: {problem}")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError as exc:
        raise CalendarInputError(f"bad date {text!r}: {exc}") from None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise CalendarInputError(f"date {text!r} is out of range {MIN_YEAR}–{MAX_YEAR}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return Start(moment, has_time=len(cleaned) > 10)


def parse_office_hours(text: str | None) -> tuple[time, time]:
    if not text:
        return DEFAULT_OFFICE_START, DEFAULT_OFFICE_END
    match = _HOURS_RE.match(text.strip())
    try:
        if not match:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise CalendarInputError(f"bad office hours {text!r}: expected HH:MM-HH:MM, e.g. 09:00-18:00") from None
    if not start < end:
        raise CalendarInputError(f"bad office hours {text!r}: the office must open before it closes")
    return start, end


def _parse_duration(text: str) -> Duration:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise CalendarInputError(str(exc)) from None


def fmt_date(day: date) -> str:
    return f"{day:%d.%m.%Y}, {WEEKDAYS[day.weekday()]}"


def fmt_moment(moment: datetime, *, with_time: bool) -> str:
    return f"{moment:%d.%m.%Y}" + (f" {moment:%H:%M}" if with_time else "") + f", {WEEKDAYS[moment.weekday()]}"


def format_year(calendar: WorkingCalendar, year: int) -> str:
    lines = [f"Производственный календарь на {year} год ({calendar.tz.key})", ""]
    days_off = calendar.days_off(year)
    for month in range(1, 13):
        in_month = [d for d in days_off if d.day.month == month]
        lines.append(f"{MONTHS[month - 1]}: выходных дней {len(in_month)}")
        for item in in_month:
            label = item.name or ""
            if item.override:
                label = f"выходной по решению МЦУ{': ' + item.name if item.name else ''}"
            lines.append(f"  {item.day:%d.%m.%Y} {WEEKDAYS[item.day.weekday()]}" + (f"  {label}" if label else ""))
    lines.append("")
    weekends = calendar.working_weekends(year)
    if weekends:
        lines.append("Рабочие субботы и воскресенья: " + "; ".join(fmt_date(d) for d in weekends))
    overrides = sorted((d, w) for d, w in calendar.overrides.items() if d.year == year)
    if overrides:
        parts = []
        for day, working in overrides:
            note = calendar.notes.get(day)
            parts.append(f"{day:%d.%m.%Y} — {'рабочий' if working else 'выходной'}" + (f" ({note})" if note else ""))
        lines.append("Поправки МЦУ: " + "; ".join(parts))
    lines.append(f"Выходных и праздничных дней: {len(days_off)}")
    lines.append(f"Рабочих дней: {calendar.working_days_in_year(year)}")
    return "\n".join(lines)


def format_deadline(calendar: WorkingCalendar, start: Start, duration: Duration) -> str:
    tz = calendar.tz
    local_start = start.moment.astimezone(tz)
    result = calendar.add(start.moment, duration).astimezone(tz)
    begin = fmt_moment(local_start, with_time=start.has_time)
    lines = [f"Начало: {begin} ({tz.key}); срок: {duration_words(duration)}"]
    if duration.unit is Unit.working_hours:
        lines.append(f"Срок истекает: {fmt_moment(result, with_time=True)}")
    elif duration.unit is Unit.working_days:
        lines.append(f"Срок истекает: {fmt_date(result.date())}, в конце рабочего дня ({result:%H:%M})")
    else:
        text = fmt_moment(result, with_time=start.has_time)
        plain = calendar.add_calendar_days(start.moment, duration.amount, move_to_working_day=False).astimezone(tz)
        if plain.date() != result.date():
            text += f" (перенесено с выходного {plain:%d.%m.%Y})"
        elif not calendar.is_working_day(result.date()):
            text += " (выходной день)"
        lines.append(f"Срок истекает: {text}")
    return "\n".join(lines)


async def run_calendar(settings: Settings, when: str, duration: str | None, *,
                       move_to_working_day: bool = False, office_hours: str | None = None) -> None:
    tz = settings.tz
    office_start, office_end = parse_office_hours(office_hours)
    year = parse_year(when.strip())
    start = parsed = None
    if year is not None:
        if duration is not None:
            raise CalendarInputError(f"a duration needs a date, not a year: {when} {duration}")
    else:
        start = parse_start(when, tz)
        if duration is None:
            raise CalendarInputError(f"a date needs a duration after it, e.g. {when.strip()} +10wd")
        parsed = _parse_duration(duration)

    from mcu.database import (
        open_database,  # slow to import (aiogram): only once the input is good
    )

    async with open_database(settings) as db, db.sessionmaker() as session:
        calendar = await load_calendar(session, tz, office_start=office_start, office_end=office_end,
                                       move_to_working_day=move_to_working_day)
    if year is not None:
        print(format_year(calendar, year))
    else:
        assert start is not None and parsed is not None
        print(format_deadline(calendar, start, parsed))

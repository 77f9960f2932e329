"""Settings staff change while the centre runs (the `settings` table), as opposed to the
`MCU_*` settings of the process. Each option has a default, so an empty table works.

The admin's settings page and the bot read and write them here; every change is audited.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import N_, LocalizedError
from db.models import AuditEntry, SettingValue

REVIEW_MODES = ("always", "never", "topics")
REMINDER_STEPS = ("half", "day_before", "due_morning", "overdue_daily")


class OptionError(LocalizedError):
    """A value staff typed that the option cannot take, explained in words."""


def _chat(value: Any) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise OptionError(N_("ожидается числовой id чата Telegram, например -1001234567890")) from None


def _review_mode(value: Any) -> str:
    if value not in REVIEW_MODES:
        raise OptionError(N_("ожидается always, never или topics"))
    return str(value)


def _codes(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    return [str(v) for v in value or [] if str(v)]


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "да")
    return bool(value)


def _minutes(value: Any) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        raise OptionError(N_("ожидается целое число минут")) from None
    if not 0 <= minutes <= 7 * 24 * 60:
        raise OptionError(N_("от 0 до 10080 минут (неделя)"))
    return minutes


def _days(value: Any) -> int:
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise OptionError(N_("ожидается целое число дней")) from None
    if not 0 <= days <= 365:
        raise OptionError(N_("от 0 до 365 дней (0 — не спрашивать)"))
    return days


def _steps(value: Any) -> list[str]:
    steps = _codes(value)
    unknown = [s for s in steps if s not in REMINDER_STEPS]
    if unknown:
        raise OptionError(N_("неизвестные шаги: {unknown}; допустимы: {known}"), unknown=", ".join(unknown),
                          known=", ".join(REMINDER_STEPS))
    return steps


def _hhmm(value: Any) -> str:
    text = str(value).strip()
    try:
        hours, minutes = (int(p) for p in text.split(":"))
    except ValueError:
        raise OptionError(N_("ожидается время ЧЧ:ММ, например 09:00")) from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise OptionError(N_("ожидается время ЧЧ:ММ, например 09:00"))
    return f"{hours:02d}:{minutes:02d}"


# ISO weekdays (1 is Monday) by the names staff may type.
WEEKDAYS = {
    "monday": 1, "mon": 1, "понедельник": 1, "пн": 1,
    "tuesday": 2, "tue": 2, "вторник": 2, "вт": 2,
    "wednesday": 3, "wed": 3, "среда": 3, "ср": 3,
    "thursday": 4, "thu": 4, "четверг": 4, "чт": 4,
    "friday": 5, "fri": 5, "пятница": 5, "пт": 5,
    "saturday": 6, "sat": 6, "суббота": 6, "сб": 6,
    "sunday": 7, "sun": 7, "воскресенье": 7, "вс": 7,
}


def _weekday(value: Any) -> int:
    text = str(value).strip().lower()
    if text in WEEKDAYS:
        return WEEKDAYS[text]
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text)
    raise OptionError(N_("ожидается день недели: 1–7 (1 — понедельник) или его название, например monday"))


def _month_day(value: Any) -> int:
    try:
        day = int(value)
    except (TypeError, ValueError):
        raise OptionError(N_("ожидается число месяца от 1 до 28")) from None
    if not 1 <= day <= 28:  # a day every month has
        raise OptionError(N_("ожидается число месяца от 1 до 28"))
    return day


@dataclass(frozen=True, slots=True)
class Options:
    # Answers go to the centre's review before the citizen sees them.
    review_mode: str = "always"
    review_topics: tuple[str, ...] = ()
    # Route without the officer's tap when exactly one rule matches.
    auto_route: bool = False
    head_chat_id: int | None = None
    curator_chat_id: int | None = None
    survey_delay_minutes: int = 60
    # Ask again this many days after a reopened item is closed (0: do not ask).
    survey_repeat_days: int = 21
    reminder_plan: tuple[str, ...] = REMINDER_STEPS
    digest_time: str = "09:00"
    # A deadline that falls on a day off moves to the next working day.
    move_to_working_day: bool = True
    # The deadline clock stops while the item waits for the citizen's reply.
    pause_while_waiting: bool = True
    # The weekly report (the last 7 days) to the head and the curator: ISO weekday, district time.
    weekly_digest_day: int = 1
    weekly_digest_time: str = "09:00"
    # The monthly report (the previous calendar month) to the curator.
    monthly_digest_day: int = 1
    monthly_digest_time: str = "09:00"


PARSERS: dict[str, Callable[[Any], Any]] = {
    "review_mode": _review_mode,
    "review_topics": lambda v: tuple(_codes(v)),
    "auto_route": _bool,
    "head_chat_id": _chat,
    "curator_chat_id": _chat,
    "survey_delay_minutes": _minutes,
    "survey_repeat_days": _days,
    "reminder_plan": lambda v: tuple(_steps(v)),
    "digest_time": _hhmm,
    "move_to_working_day": _bool,
    "pause_while_waiting": _bool,
    "weekly_digest_day": _weekday,
    "weekly_digest_time": _hhmm,
    "monthly_digest_day": _month_day,
    "monthly_digest_time": _hhmm,
}
assert set(PARSERS) == {f.name for f in fields(Options)}


async def load_options(session: AsyncSession) -> Options:
    stored = {row.key: row.value for row in await session.scalars(select(SettingValue))}
    values: dict[str, Any] = {}
    for name, parse in PARSERS.items():
        if name in stored:
            try:
                values[name] = parse(stored[name])
            except OptionError:
                continue  # a value written by an older version: the default holds
    return Options(**values)


async def set_option(
    session: AsyncSession, name: str, value: Any, *, staff_id: int | None, now: datetime
) -> Any:
    """Validate and store one option; returns the parsed value. Raises OptionError."""
    if name not in PARSERS:
        raise OptionError(N_("нет такой настройки: {name}"), name=name)
    parsed = PARSERS[name](value)
    stored = list(parsed) if isinstance(parsed, tuple) else parsed
    row = await session.get(SettingValue, name)
    old = None if row is None else row.value
    if row is None:
        session.add(SettingValue(key=name, value=stored, updated_at=now))
    else:
        row.value = stored
        row.updated_at = now
    session.add(AuditEntry(at=now, staff_id=staff_id, action="setting.change", entity="setting",
                           details={"name": name, "old": old, "new": stored}))
    return parsed

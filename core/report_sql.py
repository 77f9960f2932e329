"""SQL pieces the report's queries share: the scope filter, the local day of a UTC column, the
hours between two columns — written once for SQLite and PostgreSQL.

SQLite keeps `UTCDateTime` as text ('YYYY-MM-DD HH:MM:SS.ffffff', UTC), so a local day is the
text shifted by the zone's offset; where the offset changes inside the range (daylight saving)
the shift is a CASE over the constant-offset stretches, exact for any zone. PostgreSQL converts
with `timezone()`.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    Float,
    Row,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ColumnElement

from core.report_model import Durations, Scope
from db.models import Item, Survey

Segments = list[tuple[datetime | None, int]]  # (end of the stretch, exclusive; offset in minutes)


async def fetch(session: AsyncSession, statement: Executable) -> Sequence[Row[Any]]:
    """Rows as plain tuples, executed on the session's connection: the ORM's per-row work costs
    more than the query on a month of items."""
    connection = await session.connection()
    return (await connection.execute(statement)).all()


async def fetch_plain(session: AsyncSession, statement: Executable) -> Sequence[Sequence[Any]]:
    """Rows straight from the driver, without SQLAlchemy's row objects and type processing: only
    for long results of plain numbers and text (a month of answers), where building row objects
    cost a third of the report."""
    connection = await session.connection()
    result = await connection.execute(statement)
    try:
        return result.cursor.fetchall()  # type: ignore[union-attr]
    finally:
        result.close()


def lit(value: str) -> ColumnElement[str]:
    """A string constant written into the SQL text: SQLite's planner uses a partial index only
    when the query names the index's constants literally, not as bound parameters."""
    return literal_column("'" + value.replace("'", "''") + "'")


def scope_filters(scope: Scope, *, organisation_column: ColumnElement[int] | None = None) -> list[ColumnElement[bool]]:
    """WHERE terms on `Item` for the scope; `organisation_column` replaces `Item.organisation_id`
    (surveys count for the organisation that answered)."""
    terms: list[ColumnElement[bool]] = []
    if scope.topic_id is not None:
        terms.append(Item.topic_id == scope.topic_id)
    if scope.settlement_id is not None:
        terms.append(Item.settlement_id == scope.settlement_id)
    if scope.organisation_id is not None:
        column = Item.organisation_id if organisation_column is None else organisation_column
        terms.append(column == scope.organisation_id)
    if scope.channel is not None:
        terms.append(Item.channel == scope.channel)
    elif scope.channels:
        terms.append(Item.channel.in_(scope.channels))
    return terms


def survey_scope_filters(scope: Scope) -> list[ColumnElement[bool]]:
    return scope_filters(scope, organisation_column=Survey.organisation_id)


def _offset_minutes(tz: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(tz).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


def offset_segments(tz: ZoneInfo, start: datetime, end: datetime) -> Segments:
    """The zone's UTC offsets over [start, end): one stretch for a zone without transitions."""
    segments: Segments = []
    current = _offset_minutes(tz, start)
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        if _offset_minutes(tz, following) != current:
            low, high = day, following  # the change is in (low, high]: find the first minute of it
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if _offset_minutes(tz, middle) == current:
                    low = middle
                else:
                    high = middle
            high = high.replace(second=0, microsecond=0)
            segments.append((high, current))
            current = _offset_minutes(tz, high)
        day = following
    segments.append((None, current))
    return segments


def local_day(column: ColumnElement[datetime], tz: ZoneInfo, dialect: str, start: datetime,
              end: datetime) -> ColumnElement[object]:
    """The local date of a UTC timestamp column, for values in [start, end)."""
    if dialect == "postgresql":
        return cast(func.timezone(tz.key, column), Date)
    segments = offset_segments(tz, start, end)

    def shifted(minutes: int) -> ColumnElement[object]:
        return func.date(column, literal_column(f"'{minutes:+d} minutes'"))

    if len(segments) == 1:
        return shifted(segments[0][1])
    whens = [(column < bound, shifted(minutes)) for bound, minutes in segments[:-1] if bound is not None]
    return case(*whens, else_=shifted(segments[-1][1]))


def as_date(value: object) -> date:
    """SQLite gives the local day as text, PostgreSQL as a date."""
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def as_utc(value: datetime | str | None) -> datetime | None:
    """A moment as a driver gives it (`fetch_plain`): SQLite's text of `UTCDateTime`, or an aware
    datetime from asyncpg."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def hours_between(later: ColumnElement[datetime], earlier: ColumnElement[datetime], dialect: str) -> ColumnElement[float]:
    if dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float) / 3600.0
    return (func.julianday(later) - func.julianday(earlier)) * 24.0


async def durations_of(session: AsyncSession, value: ColumnElement[float], where: Sequence[ColumnElement[bool]],
                       dialect: str) -> Durations:
    """Count, median and 90th percentile of `value` (hours; below zero counts as zero) over the rows
    of `where`. PostgreSQL computes them (`percentile_cont`); SQLite has no percentile function and
    numbering the rows in SQL cost more than reading the one column (bench/report.py), so it
    hands the values over and they are sorted here, with the same interpolation."""
    if dialect == "postgresql":
        clipped = func.greatest(value, 0.0)
        count, median, p90 = (await fetch(session, select(
            func.count(clipped), func.percentile_cont(0.5).within_group(clipped),
            func.percentile_cont(0.9).within_group(clipped)).where(*where, value.is_not(None))))[0]
        return Durations(int(count), None if median is None else float(median), None if p90 is None else float(p90))
    values = sorted(v if v > 0 else 0.0 for (v,) in await fetch_plain(session, select(value).where(*where))
                    if v is not None)
    return Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont)."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC)

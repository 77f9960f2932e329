"""The centre's report: periods, who may see what, and the figures (docs/reports.md defines each).

* `period_for` (buttons: today, week, month …) and `parse_dates` (typed dates) make a `Period`;
  bad input raises `ReportInputError`, whose text is fit to show (`localized(_)`).
* `scope_for(staff)` is the access rule: the scope a person may see, None when refused;
  `narrow_scope` applies it to what they asked for.
* `build_report` computes everything in `core.report_model.Report`. Every query is bounded by a
  time range on an indexed column (`received_at`, `answered_at`, `surveys.answered_at`, the
  partial indexes on `item_events` of migration 0004, the open items' deadlines), so its cost
  follows the period's items, not the table; covering indexes (0004) spare the visits to the
  items' rows. Aggregates are SQL (GROUP BY, conditional counts); medians and percentiles are
  PostgreSQL's `percentile_cont`, on SQLite computed here over one fetched column of hours. Long
  results are read as plain tuples (`fetch_plain`). bench/report.py measures it on 1,000,000 items.
* `report_sessionmaker` gives sessions for that work which keep the event loop free on SQLite
  (the app's own engine runs SQLite inline on the loop, see db/sqlite_inline.py).
"""
from __future__ import annotations

import asyncio
import re
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, event, func, literal_column, or_, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from core import problems as problems_module
from core import ratings as ratings_module
from core.calendar import WorkingCalendar, load_calendar
from core.i18n import LocalizedError, gettext_for, language_of
from core.registration import channel_label
from core.report_model import (
    Count,
    DailyTopics,
    Durations,
    Figures,
    ItemRow,
    OverdueItem,
    Period,
    Report,
    SatisfactionPoint,
    Scope,
)
from core.report_sql import (
    as_date,
    as_utc,
    durations_of,
    fetch,
    fetch_plain,
    hours_between,
    lit,
    local_day,
    percentile,
    scope_filters,
    survey_scope_filters,
)
from core.staff import (
    REPORT_ANY_SCOPE_ROLES,
    REPORT_CHANNEL_ROLES,
    REPORT_OWN_ORGANISATION_ROLES,
)
from db.engine import configured_url, is_sqlite, make_engine, make_sessionmaker
from db.models import (
    Item,
    ItemEvent,
    Organisation,
    Settlement,
    Staff,
    Status,
    Survey,
    Theme,
    Topic,
)

if TYPE_CHECKING:
    from core.settings import Settings

Gettext = Callable[[str], str]
S = Status


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated when shown."""
    return message


# --- input errors ------------------------------------------------------------------------------------


class ReportInputError(LocalizedError):
    """Input a person typed that makes no period."""


# --- periods -----------------------------------------------------------------------------------------

# The buttons. 'week' is the last seven days ending today (not the calendar week): a Monday
# report would otherwise cover one day, and seven days compare evenly with the seven before.
PERIOD_KINDS = ("today", "week", "month", "quarter", "last_month", "year")
MAX_DAYS = 3 * 366 + 1  # "about three years": longer reports are refused


def period_for(kind: str, today: date, tz: ZoneInfo) -> Period:
    """today; week (the last 7 days); month and quarter (calendar, to date); last_month (the
    previous full calendar month, for the monthly digest); year (calendar year to date)."""
    if kind == "today":
        return Period(today, today, tz)
    if kind == "week":
        return Period(today - timedelta(days=6), today, tz)
    if kind == "month":
        return Period(today.replace(day=1), today, tz)
    if kind == "quarter":
        return Period(date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today, tz)
    if kind == "last_month":
        end = today.replace(day=1) - timedelta(days=1)
        return Period(end.replace(day=1), end, tz)
    if kind == "year":
        return Period(date(today.year, 1, 1), today, tz)
    raise ReportInputError(N_("Неизвестный период: {kind}."), kind=kind)


def period_between(start: date, end: date, tz: ZoneInfo, *, today: date) -> Period:
    """A period of typed dates, checked: an end past today is cut to today."""
    if end < start:
        raise ReportInputError(N_("Конец периода ({end}) раньше начала ({start})."),
                               start=_ru_date(start), end=_ru_date(end))
    if start > today:
        raise ReportInputError(N_("Период начинается в будущем ({start}): отчёт строится за прошедшие дни."),
                               start=_ru_date(start))
    end = min(end, today)
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ReportInputError(N_("Период слишком длинный ({days} дн.): не больше трёх лет."), days=days)
    return Period(start, end, tz)


def _ru_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


_DATE = r"(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[./]\d{1,2}(?:[./]\d{2,4})?)"
_RANGE_RE = re.compile(rf"^(?:с\s+)?{_DATE}\s*(?:-|–|—|\.\.|по|до|\s)\s*{_DATE}$")
_ONE_RE = re.compile(rf"^(?:за\s+)?{_DATE}$")
_MONTH_RE = re.compile(r"^(?:за\s+)?([а-я]+)(?:\s+(\d{4})(?:\s*(?:г|год|года)\.?)?)?$")
_MONTHS = ("янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")

_Parsed = tuple[int | None, int, int]  # year (None when not typed), month, day


def _parse_one(text: str) -> _Parsed:
    if "-" in text:
        year, month, day = (int(part) for part in text.split("-"))
        return year, month, day
    parts = re.split(r"[./]", text)
    day, month = int(parts[0]), int(parts[1])
    if len(parts) == 2:
        return None, month, day
    year = int(parts[2])
    if len(parts[2]) == 2:
        year += 2000
    elif len(parts[2]) != 4:
        raise ReportInputError(N_("Такой даты нет: {text}."), text=text)
    return year, month, day


def _make(parsed: _Parsed, year: int, text: str) -> date:
    try:
        return date(parsed[0] if parsed[0] is not None else year, parsed[1], parsed[2])
    except ValueError:
        raise ReportInputError(N_("Такой даты нет: {text}."), text=text) from None


def _month_number(word: str) -> int | None:
    if word.startswith("май") or word in ("мая", "мае"):
        return 5
    for number, stem in enumerate(_MONTHS, start=1):
        if stem != "ма" and word.startswith(stem):
            return number
    if word.startswith("мар"):
        return 3
    return None


def parse_dates(text: str, tz: ZoneInfo, *, today: date | None = None) -> Period:
    """'01.11.2026-30.11.2026', '1.11-30.11', '2026-11-01 — 2026-11-30', '05.11.2026' (one day),
    'ноябрь 2026' or 'ноябрь' (a calendar month). A year left out is this year's, or last year's
    when that date is still ahead. An end past today is cut to today."""
    if today is None:
        today = datetime.now(tz).date()
    cleaned = " ".join((text or "").strip().lower().replace("ё", "е").split())
    bad = ReportInputError(
        N_("Не понимаю период «{text}». Напишите даты так: 01.11.2026-30.11.2026 или 1.11-30.11, "
           "или месяц: «ноябрь 2026»."), text=(text or "").strip()[:60])
    if match := _RANGE_RE.match(cleaned):
        first, second = _parse_one(match.group(1)), _parse_one(match.group(2))
        if first[0] is None and second[0] is None:
            start, end = _make(first, today.year, match.group(1)), _make(second, today.year, match.group(2))
            if start > today:
                start, end = _make(first, today.year - 1, match.group(1)), _make(second, today.year - 1,
                                                                                  match.group(2))
            if end < start:  # '15.12-15.01': the end is in the next year
                end = _make(second, start.year + 1, match.group(2))
        elif first[0] is None:
            end = _make(second, today.year, match.group(2))
            start = _make(first, end.year, match.group(1))
            if start > end:
                start = _make(first, end.year - 1, match.group(1))
        else:
            start = _make(first, today.year, match.group(1))
            end = _make(second, start.year, match.group(2))
            if second[0] is None and end < start:
                end = _make(second, start.year + 1, match.group(2))
        return period_between(start, end, tz, today=today)
    if match := _ONE_RE.match(cleaned):
        one = _parse_one(match.group(1))
        day = _make(one, today.year, match.group(1))
        if one[0] is None and day > today:
            day = _make(one, today.year - 1, match.group(1))
        return period_between(day, day, tz, today=today)
    if match := _MONTH_RE.match(cleaned):
        month = _month_number(match.group(1))
        if month is None:
            raise bad
        year = int(match.group(2)) if match.group(2) else today.year
        if not match.group(2) and date(year, month, 1) > today:
            year -= 1
        start = date(year, month, 1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        return period_between(start, end, tz, today=today)
    raise bad


# --- who sees what -----------------------------------------------------------------------------------


def scope_for(staff: Staff | None) -> Scope | None:
    """The widest scope this person may see, None when refused (core/staff.py has the roles):
    the centre's people (curator, head, analyst, admin) any scope — `Scope()`, the whole centre;
    a channel's officer that channel; a recipient its own organisation; anybody else nothing.
    One person with several roles gets the widest of them (a channel before an organisation)."""
    if staff is None or not staff.is_active:
        return None
    roles = staff.role_set
    if roles & REPORT_ANY_SCOPE_ROLES:
        return Scope()
    channels = tuple(sorted({REPORT_CHANNEL_ROLES[r] for r in roles if r in REPORT_CHANNEL_ROLES}))
    if len(channels) == 1:
        return Scope(channel=channels[0])
    if channels:
        return Scope(channels=channels)
    if roles & REPORT_OWN_ORGANISATION_ROLES and staff.organisation_id is not None:
        return Scope(organisation_id=staff.organisation_id)
    return None


def narrow_scope(allowed: Scope, wanted: Scope) -> Scope:
    """What `wanted` asks for, within what `allowed` (from `scope_for`) permits: a forced
    organisation or channel replaces the asked one, whatever a forged request says."""
    organisation_id = allowed.organisation_id if allowed.organisation_id is not None else wanted.organisation_id
    if allowed.channel is not None:
        channel, channels = allowed.channel, ()
    elif allowed.channels:
        channel = wanted.channel if wanted.channel in allowed.channels else None
        channels = allowed.channels
    else:
        channel, channels = wanted.channel, wanted.channels
    narrowed = Scope(topic_id=wanted.topic_id, settlement_id=wanted.settlement_id,
                     organisation_id=organisation_id, channel=channel, channels=channels)
    return replace(narrowed, label=wanted.label) if narrowed == replace(wanted, label="") else narrowed


# --- sessions off the event loop ---------------------------------------------------------------------

_sqlite_makers: dict[str, async_sessionmaker[AsyncSession]] = {}
_loop_makers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, async_sessionmaker[AsyncSession]]] \
    = weakref.WeakKeyDictionary()


def _read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")  # a report never writes
    cursor.execute("PRAGMA mmap_size=1073741824")  # read pages in place, no copy into SQLite's cache
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def report_sessionmaker(source: Settings | async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions for reports (and other long read-only work) that keep the event loop free.

    SQLite: a separate read-only engine for the same file, cached per database, whose
    connections run in aiosqlite's worker thread (WAL lets it read while the app writes); no
    pool, so it serves any event loop. PostgreSQL: asyncpg never blocks the loop, so a
    sessionmaker given is returned as it is; for Settings an engine is made once per URL and
    event loop (`dispose_report_engines` closes them).
    """
    if isinstance(source, async_sessionmaker):
        bind = source.kw.get("bind")
        url = configured_url(bind)  # type: ignore[arg-type]
        if not is_sqlite(url):
            return source
    else:
        url = source.effective_database_url
    if is_sqlite(url) and make_url(url).database in (None, "", ":memory:"):
        # A database in memory exists on its one connection only: no second engine can see it.
        if isinstance(source, async_sessionmaker):
            return source
        raise ValueError("a report needs a database file, not one in memory")
    if is_sqlite(url):
        maker = _sqlite_makers.get(url)
        if maker is None:
            engine = make_engine(url, inline=False, poolclass=NullPool)
            event.listen(engine.sync_engine, "connect", _read_pragmas)
            maker = _sqlite_makers[url] = make_sessionmaker(engine)
        return maker
    loop = asyncio.get_running_loop()
    makers = _loop_makers.setdefault(loop, {})
    if url not in makers:
        makers[url] = make_sessionmaker(make_engine(url))
    return makers[url]


async def dispose_report_engines() -> None:
    """Close the engines `report_sessionmaker` made (at shutdown, and between tests)."""
    makers = list(_sqlite_makers.values())
    _sqlite_makers.clear()
    try:
        makers += list(_loop_makers.pop(asyncio.get_running_loop(), {}).values())
    except RuntimeError:
        pass
    for maker in makers:
        await maker.kw["bind"].dispose()


# --- the directory -----------------------------------------------------------------------------------

NONE_KEY = "none"


@dataclass
class Directory:
    """Names of what the figures are grouped by, read once per report."""

    topics: dict[int, tuple[str, str]]  # id → (code, name), in the decree's order
    themes: dict[int, str]
    settlements: dict[int, str]
    organisations: dict[int, str]


async def load_directory(session: AsyncSession, english: bool = False) -> Directory:
    topics = {t.id: (t.code, t.name_en if english else t.name_ru)
              for t in await session.scalars(select(Topic).order_by(Topic.sort, Topic.id))}
    themes = dict(await fetch(session, select(Theme.id, Theme.name)))
    settlements = dict(await fetch(session, select(Settlement.id, Settlement.name)))
    organisations = dict(await fetch(session, select(Organisation.id, Organisation.name)))
    return Directory(topics, themes, settlements, organisations)


def scope_label(scope: Scope, directory: Directory, _: Gettext) -> str:
    parts: list[str] = []
    if scope.topic_id is not None:
        parts.append(directory.topics.get(scope.topic_id, ("", "?"))[1])
    if scope.settlement_id is not None:
        parts.append(directory.settlements.get(scope.settlement_id, "?"))
    if scope.organisation_id is not None:
        parts.append(directory.organisations.get(scope.organisation_id, "?"))
    if scope.channel is not None:
        parts.append(channel_label(scope.channel, _))
    elif scope.channels:
        parts.append(", ".join(channel_label(c, _) for c in scope.channels))
    return " · ".join(parts)


# --- the figures of one period -----------------------------------------------------------------------

# Statuses in which the item waits for its answer: past `due_answer_at` in one of them it is overdue.
AWAITING = (S.registered, S.assigned, S.in_work, S.interim_answer, S.returned, S.redirected, S.reopened)


def _registered() -> Any:
    """An item is counted once registered: a draft the citizen has not confirmed (status
    `received`), or withdrew before confirming, is not an item yet."""
    return Item.registered_at.is_not(None)


def _awaiting() -> Any:
    return Item.status.in_([lit(s.value) for s in AWAITING])


@dataclass
class Intake:
    received: int = 0
    by_topic: Counter[int | None] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_settlement: Counter[int | None] = field(default_factory=Counter)
    repeat: int = 0
    rerouted: int = 0
    reclassified: int = 0
    per_organisation: Counter[tuple[int, str]] = field(default_factory=Counter)  # (org, channel) → received


async def _intake(session: AsyncSession, period: Period, scope: Scope) -> Intake:
    """Items received in the period, by topic × channel × settlement × organisation."""
    rerouted = (select(ItemEvent.id).where(ItemEvent.item_id == Item.id, ItemEvent.action == lit("route"),
                                           ItemEvent.old_value.is_not(None)).exists())
    reclassified = (select(ItemEvent.id).where(ItemEvent.item_id == Item.id,
                                               ItemEvent.action == lit("reclassified")).exists())
    statement = (
        select(Item.topic_id, Item.channel, Item.settlement_id, Item.organisation_id, func.count(),
               func.count(Item.repeat_of_id), func.count().filter(rerouted), func.count().filter(reclassified))
        .where(Item.received_at >= period.start_utc, Item.received_at < period.end_utc, _registered(),
               *scope_filters(scope))
        .group_by(Item.topic_id, Item.channel, Item.settlement_id, Item.organisation_id))
    intake = Intake()
    for topic_id, channel, settlement_id, organisation_id, count, repeat, moved, changed in \
            await fetch(session, statement):
        intake.received += count
        intake.by_topic[topic_id] += count
        intake.by_channel[channel] += count
        intake.by_settlement[settlement_id] += count
        intake.repeat += repeat
        intake.rerouted += moved
        intake.reclassified += changed
        if organisation_id is not None:
            intake.per_organisation[(organisation_id, channel)] += count
    return intake


async def _first_reactions(session: AsyncSession, period: Period, scope: Scope, dialect: str) -> Durations:
    return await durations_of(session, hours_between(Item.first_reaction_at, Item.received_at, dialect), [
        Item.received_at >= period.start_utc, Item.received_at < period.end_utc, _registered(),
        Item.first_reaction_at.is_not(None), *scope_filters(scope)], dialect)


@dataclass
class Answers:
    """Answers given in the period: an item's latest answer (a reopened item answers anew)."""

    count: int = 0
    on_time: int = 0
    time: Durations = field(default_factory=lambda: Durations(0, None, None))
    by_organisation: dict[ratings_module.Key, ratings_module.AnswerStats] = field(default_factory=dict)


async def _answers(session: AsyncSession, period: Period, scope: Scope, dialect: str, *,
                   by_organisation: bool) -> Answers:
    """With `by_organisation` (the ratings need each organisation's answers) every answer is read;
    otherwise the database counts, and the percentiles come from `durations_of`."""
    on_time = case((or_(Item.due_answer_at.is_(None), Item.answered_at <= Item.due_answer_at), 1), else_=0)
    hours = hours_between(Item.answered_at, Item.received_at, dialect)
    where = [Item.answered_at >= period.start_utc, Item.answered_at < period.end_utc, *scope_filters(scope)]
    answers = Answers()
    if not by_organisation:
        count, in_time = (await fetch(session, select(func.count(), func.sum(on_time)).where(*where)))[0]
        answers.count, answers.on_time = int(count), int(in_time or 0)
        answers.time = await durations_of(session, hours, where, dialect)
        return answers
    earlier = case((Item.received_at < period.start_utc, 1), else_=0)
    statement = select(Item.organisation_id, Item.channel, on_time, hours,
                       hours_between(Item.due_answer_at, Item.received_at, dialect), earlier).where(*where)
    everyone: list[float] = []
    per_organisation = answers.by_organisation
    # A plain loop: a month of a big district is ~50,000 answers.
    for organisation_id, channel, ok, spent, allotted, before in await fetch_plain(session, statement):
        spent = spent if spent is not None and spent > 0 else 0.0
        everyone.append(spent)
        answers.on_time += ok
        if organisation_id is not None:
            stats = per_organisation.get((organisation_id, channel))
            if stats is None:
                stats = per_organisation[(organisation_id, channel)] = ratings_module.AnswerStats()
            stats.add(spent, allotted, ok, before)
    everyone.sort()
    answers.count, answers.time = len(everyone), durations(everyone)
    return answers


@dataclass(frozen=True, slots=True)
class SurveyGroup:
    day: date
    organisation_id: int | None
    channel: str
    resolved: str
    count: int
    score_sum: int
    scored: int


async def _surveys(session: AsyncSession, period: Period, scope: Scope, dialect: str) -> list[SurveyGroup]:
    """Surveys answered in the period, by local day × organisation × channel × answer."""
    day = local_day(Survey.answered_at, period.tz, dialect, period.start_utc, period.end_utc).label("day")
    statement = (
        select(day, Survey.organisation_id, Item.channel, Survey.resolved, func.count(),
               func.coalesce(func.sum(Survey.score), 0), func.count(Survey.score))
        .select_from(Survey).join(Item, Item.id == Survey.item_id)
        .where(Survey.answered_at >= period.start_utc, Survey.answered_at < period.end_utc,
               Survey.resolved.is_not(None), *survey_scope_filters(scope))
        .group_by(literal_column("day"), Survey.organisation_id, Item.channel, Survey.resolved))
    return [SurveyGroup(as_date(d), org, channel, resolved, count, int(total or 0), scored)
            for d, org, channel, resolved, count, total, scored in await fetch(session, statement)]


async def _overdue_rows(session: AsyncSession, scope: Scope, now: datetime) -> list[Any]:
    """Open items past their answer deadline now, oldest deadline first. An item whose clock was
    paused (waiting for the citizen) before its deadline is not late."""
    statement = (
        select(Item.id, Item.number, Item.organisation_id, Item.topic_id, Item.due_answer_at, Item.status,
               Item.channel)
        .where(_awaiting(), Item.due_answer_at < now,
               or_(Item.paused_since.is_(None), Item.paused_since > Item.due_answer_at), *scope_filters(scope))
        .order_by(Item.due_answer_at, Item.id))
    return list(await fetch(session, statement))


async def _overdue_at(session: AsyncSession, scope: Scope, moment: datetime) -> int:
    """How many were overdue at a past moment: still waiting now with a deadline before it, or
    answered after it past a deadline before it. (An item withdrawn or reopened since is
    counted as it stands now.)"""
    waiting = await session.scalar(select(func.count()).where(
        _awaiting(), Item.due_answer_at < moment, Item.received_at < moment, *scope_filters(scope)))
    answered_later = await session.scalar(select(func.count()).where(
        Item.answered_at >= moment, Item.due_answer_at < moment, *scope_filters(scope)))
    return int(waiting or 0) + int(answered_later or 0)


async def _daily(session: AsyncSession, period: Period, scope: Scope, dialect: str) -> list[tuple[date, int | None, int]]:
    day = local_day(Item.received_at, period.tz, dialect, period.start_utc, period.end_utc).label("day")
    statement = (
        select(day, Item.topic_id, func.count())
        .where(Item.received_at >= period.start_utc, Item.received_at < period.end_utc, _registered(),
               *scope_filters(scope))
        .group_by(literal_column("day"), Item.topic_id))
    return [(as_date(d), topic_id, count) for d, topic_id, count in await fetch(session, statement)]


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def durations(sorted_hours: list[float]) -> Durations:
    return Durations(len(sorted_hours), percentile(sorted_hours, 0.5), percentile(sorted_hours, 0.9))


def _counts(current: Counter[Any], previous: Counter[Any], label: Callable[[Any], tuple[str, str]]) -> list[Count]:
    keys = set(current) | set(previous)
    counts = [Count(*label(k), count=current.get(k, 0), previous=previous.get(k, 0)) for k in keys]
    return sorted(counts, key=lambda c: (-c.count, -c.previous, c.label))


@dataclass
class PeriodData:
    """What the queries of one period return, before it becomes `Figures`."""

    intake: Intake
    first_reactions: Durations
    answers: Answers
    surveys: list[SurveyGroup]
    overdue: int


async def _period_data(session: AsyncSession, period: Period, scope: Scope, dialect: str,
                       overdue: int, *, current: bool) -> PeriodData:
    return PeriodData(
        intake=await _intake(session, period, scope),
        first_reactions=await _first_reactions(session, period, scope, dialect),
        answers=await _answers(session, period, scope, dialect, by_organisation=current),
        surveys=await _surveys(session, period, scope, dialect),
        overdue=overdue,
    )


def _figures(data: PeriodData, other: PeriodData | None, directory: Directory, _: Gettext) -> Figures:
    intake = data.intake
    empty = Intake()
    before = other.intake if other is not None else empty
    unknown = _("не указано")

    def topic(key: int | None) -> tuple[str, str]:
        if key is None or key not in directory.topics:
            return NONE_KEY, unknown
        return directory.topics[key]

    def settlement(key: int | None) -> tuple[str, str]:
        return (NONE_KEY, unknown) if key is None else (str(key), directory.settlements.get(key, "?"))

    answered = data.answers.count
    on_time = data.answers.on_time
    surveys_answered = sum(g.count for g in data.surveys)
    satisfied = sum(g.count for g in data.surveys if g.resolved == "yes")
    scored = sum(g.scored for g in data.surveys)
    score_sum = sum(g.score_sum for g in data.surveys)
    return Figures(
        received=intake.received,
        by_topic=_counts(intake.by_topic, before.by_topic, topic),
        by_channel=_counts(intake.by_channel, before.by_channel, lambda k: (k, channel_label(k, _))),
        by_settlement=_counts(intake.by_settlement, before.by_settlement, settlement),
        answered=answered,
        answered_on_time=on_time,
        on_time_share=_share(on_time, answered),
        overdue_now=data.overdue,
        first_reaction=data.first_reactions,
        answer_time=data.answers.time,
        surveys_answered=surveys_answered,
        satisfied_share=_share(satisfied, surveys_answered),
        average_score=score_sum / scored if scored else None,
        repeat_share=_share(intake.repeat, intake.received),
        redirected_share=_share(intake.rerouted, intake.received),
        reclassified_share=_share(intake.reclassified, intake.received),
    )


# --- charts' series ----------------------------------------------------------------------------------


def _daily_topics(period: Period, rows: Iterable[tuple[date, int | None, int]],
                  directory: Directory) -> tuple[list[DailyTopics], bool]:
    """Every day of the period (zeros too); True when some items have no topic."""
    days: dict[date, Counter[str]] = {period.start + timedelta(days=n): Counter() for n in range(period.days)}
    untopiced = False
    for day, topic_id, count in rows:
        code = directory.topics[topic_id][0] if topic_id in directory.topics else NONE_KEY
        untopiced |= code == NONE_KEY
        if day in days:
            days[day][code] += count
    return [DailyTopics(day, dict(counts)) for day, counts in days.items()], untopiced


def _satisfaction(period: Period, groups: Iterable[SurveyGroup]) -> list[SatisfactionPoint]:
    """By day up to 31 days, by week (from the period's first day) beyond."""
    step = 1 if period.days <= 31 else 7
    starts = [period.start + timedelta(days=n) for n in range(0, period.days, step)]
    totals: dict[date, list[int]] = {start: [0, 0, 0, 0] for start in starts}  # answered, yes, score sum, scored
    for group in groups:
        bucket = period.start + timedelta(days=(group.day - period.start).days // step * step)
        if bucket not in totals:
            continue
        t = totals[bucket]
        t[0] += group.count
        t[1] += group.count if group.resolved == "yes" else 0
        t[2] += group.score_sum
        t[3] += group.scored
    return [SatisfactionPoint(start, t[0], _share(t[1], t[0]), t[2] / t[3] if t[3] else None)
            for start, t in totals.items()]


# --- overdue -----------------------------------------------------------------------------------------


def _working_days_after(calendar: WorkingCalendar, days: Iterable[date], today: date) -> dict[date, int]:
    """For each day: how many working days come after it, up to and including today."""
    wanted = sorted(set(days))
    if not wanted:
        return {}
    result: dict[date, int] = {}
    count = 0
    day = today
    index = len(wanted) - 1
    while index >= 0:
        while index >= 0 and wanted[index] >= day:
            result[wanted[index]] = count
            index -= 1
        if index < 0:
            break
        if calendar.is_working_day(day):
            count += 1
        day -= timedelta(days=1)
    return result


def _overdue_items(rows: list[Any], calendar: WorkingCalendar, now: datetime, directory: Directory,
                   _: Gettext) -> list[OverdueItem]:
    tz = calendar.tz
    today = now.astimezone(tz).date()
    counts = _working_days_after(calendar, (r.due_answer_at.astimezone(tz).date() for r in rows), today)
    nobody = _("не назначено")
    return [OverdueItem(
        item_id=r.id, number=r.number,
        organisation=directory.organisations.get(r.organisation_id, nobody) if r.organisation_id else nobody,
        topic=directory.topics[r.topic_id][1] if r.topic_id in directory.topics else _("не указано"),
        due_at=r.due_answer_at, overdue_days=counts[r.due_answer_at.astimezone(tz).date()], status=r.status,
    ) for r in rows]


# --- the spreadsheet's rows --------------------------------------------------------------------------


async def _item_rows(session: AsyncSession, period: Period, scope: Scope, directory: Directory) -> list[ItemRow]:
    where = [Item.received_at >= period.start_utc, Item.received_at < period.end_utc, _registered(),
             *scope_filters(scope)]
    latest: dict[int, tuple[str | None, int | None]] = {}
    for item_id, resolved, score in await fetch_plain(
            session,
            select(Survey.item_id, Survey.resolved, Survey.score).select_from(Item)
            .join(Survey, Survey.item_id == Item.id)
            .where(*where, Survey.resolved.is_not(None)).order_by(Survey.answered_at, Survey.id)):
        latest[item_id] = (resolved, score)
    topics, themes = directory.topics, directory.themes
    settlements, organisations = directory.settlements, directory.organisations
    rows: list[ItemRow] = []
    # Read as the driver gives them (a month is ~50,000 rows): the moments through `as_utc`.
    for (item_id, number, received, kind, channel, status, topic_id, theme_id, settlement_id, address,
         organisation_id, due, answered) in await fetch_plain(
            session,
            select(Item.id, Item.number, Item.received_at, Item.kind, Item.channel, Item.status, Item.topic_id,
                   Item.theme_id, Item.settlement_id, Item.address, Item.organisation_id, Item.due_answer_at,
                   Item.answered_at).where(*where).order_by(Item.received_at, Item.id)):
        due, answered = as_utc(due), as_utc(answered)
        resolved, score = latest.get(item_id, (None, None))
        rows.append(ItemRow(
            number=number, received_at=as_utc(received), kind=kind, channel=channel, status=status,
            topic=topics[topic_id][1] if topic_id in topics else "",
            theme=themes.get(theme_id, "") if theme_id else "",
            settlement=settlements.get(settlement_id, "") if settlement_id else "",
            address=address or "",
            organisation=organisations.get(organisation_id, "") if organisation_id else "",
            due_at=due, answered_at=answered,
            on_time=None if answered is None else (due is None or answered <= due),
            resolved=resolved, score=score))
    return rows


# --- the report --------------------------------------------------------------------------------------


async def build_report(
    session: AsyncSession,
    period: Period,
    scope: Scope,
    *,
    now: datetime,
    with_items: bool = False,
    min_rated: int = ratings_module.MIN_RATED,
    _: Gettext | None = None,
    calendar: WorkingCalendar | None = None,
) -> Report:
    """Everything the report shows, for `period` within `scope`, as of `now` (docs/reports.md).

    `_` picks the language of the few labels made here (topic names, «не указано»); Russian by
    default. `calendar` (working days of the overdue list) is loaded when not given.
    """
    if _ is None:
        _ = gettext_for("ru")
    dialect = session.get_bind().dialect.name
    directory = await load_directory(session, english=language_of(_) == "en")
    if not scope.label and not scope.whole:
        scope = replace(scope, label=scope_label(scope, directory, _))
    if calendar is None:
        calendar = await load_calendar(session, period.tz)
    previous_period = period.previous()

    overdue_rows = await _overdue_rows(session, scope, now)
    current = await _period_data(session, period, scope, dialect, overdue=len(overdue_rows), current=True)
    previous = await _period_data(session, previous_period, scope, dialect,
                                  overdue=await _overdue_at(session, scope, min(now, period.start_utc)),
                                  current=False)
    daily_rows = await _daily(session, period, scope, dialect)
    events = await ratings_module.period_events(session, period, scope)
    problems = await problems_module.find_problems(session, period, scope, directory, _)
    items = await _item_rows(session, period, scope, directory) if with_items else []

    overdue = _overdue_items(overdue_rows, calendar, now, directory, _)
    daily, untopiced = _daily_topics(period, daily_rows, directory)
    topic_labels = {code: name for code, name in directory.topics.values()}
    if untopiced:
        topic_labels[NONE_KEY] = _("не указано")
    missed = Counter((r.organisation_id, r.channel) for r in overdue_rows
                     if r.organisation_id is not None and period.start_utc <= r.due_answer_at < period.end_utc)
    ratings = ratings_module.rate(
        ratings_module.RatingInputs(
            received=current.intake.per_organisation, answers=current.answers.by_organisation, surveys=current.surveys,
            returns=events.returns, reopened=events.reopened, missed=missed),
        directory.organisations, min_rated=min_rated)
    return Report(
        period=period,
        scope=scope,
        generated_at=now,
        current=_figures(current, previous, directory, _),
        previous=_figures(previous, None, directory, _),
        daily=daily,
        topic_labels=topic_labels,
        satisfaction=_satisfaction(period, current.surveys),
        ratings=ratings,
        problems=problems,
        overdue=overdue,
        items=items,
        min_rated=min_rated,
    )

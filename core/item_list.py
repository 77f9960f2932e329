"""The admin's list of items: a filter read from the query string, who may see what (`visible`), one
page newest first with a keyset cursor, and the rows of an export.

`visible(staff)` is the one clause that scopes items by role — the list, the item page, its files,
the export and the dashboard all use it, so a recipient never reaches another organisation's item
by any door. It follows `lifecycle.allowed_actions`' right to see the card: the centre and the
analyst see everything, a channel's officer that channel, a recipient its organisation's items.

Pages are keyset pages (`received_at desc, id desc`): the cursor is the last row's key, so a page
costs the same at the millionth row as at the first, and rows added meanwhile neither repeat nor
push others off the next page. No total count: counting a million matching rows on every page is
what made such lists slow.
"""
from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Select,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from core.lifecycle import CENTRE_ROLES, CHANNEL_OFFICER, FINAL, UNANSWERED
from core.search import item_matches, search_words
from db.models import (
    OPEN_STATUSES,
    Channel,
    Item,
    ItemKind,
    Organisation,
    Role,
    Settlement,
    Staff,
    Status,
    Topic,
)

Gettext = Callable[[str], str]
PAGE_SIZE = 50
EXPORT_BATCH = 2000
MAX_QUERY = 200
_NUMBER = re.compile(r"^\d{4}-\d{6}$")


def N_(message: str) -> str:
    return message


# Groups of statuses offered in the filter beside the single statuses.
STATUS_GROUPS: dict[str, frozenset[Status]] = {
    "open": frozenset(OPEN_STATUSES) - {Status.received},
    "unanswered": frozenset(UNANSWERED),
    # With an organisation and not yet answered (the dashboard's «в работе»).
    "working": frozenset(UNANSWERED) - {Status.registered},
    "review": frozenset({Status.answered, Status.under_review}),
    "final": frozenset(FINAL),
}


def status_group_label(code: str, _: Gettext) -> str:
    return {
        "open": _("все открытые"),
        "unanswered": _("ждут ответа"),
        "working": _("у исполнителей"),
        "review": _("ответ на проверке"),
        "final": _("закрытые, отозванные, отклонённые"),
    }[code]


def channel_label(channel: str, _: Gettext) -> str:
    return {
        Channel.bot: _("Telegram-бот"),
        Channel.pos: _("ПОС (Госуслуги)"),
        Channel.im: _("Инцидент менеджмент"),
        Channel.phone: _("телефон"),
        Channel.email: _("электронная почта"),
        Channel.visit: _("личный приём"),
        Channel.cur: _("ЦУР"),
    }.get(channel, channel)


# --- who sees what ----------------------------------------------------------------------------------


def sees_everything(staff: Staff) -> bool:
    return bool(staff.is_active and staff.role_set & (CENTRE_ROLES | {Role.analyst}))


def _as_is(column: Any) -> Any:
    return column


def plain(column: Any) -> Any:
    """SQLite: `+items.x` is the same value, but the planner may not choose an index by it — how
    `list_page` tells SQLite which index to walk (see `_sqlite_plan`)."""
    return literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def visible(staff: Staff | None, col: Callable[[Any], Any] = _as_is) -> ColumnElement[bool]:
    """The items this person may see; nothing for an inactive or unknown one."""
    if staff is None or not staff.is_active:
        return false()
    roles = staff.role_set
    if sees_everything(staff):
        return true()
    parts: list[ColumnElement[bool]] = []
    channels = [channel for channel, role in CHANNEL_OFFICER.items() if role in roles]
    if channels:
        parts.append(col(Item.channel).in_(channels))
    if Role.recipient in roles and staff.organisation_id is not None:
        parts.append(col(Item.organisation_id) == staff.organisation_id)
    if not parts:
        return false()
    return parts[0] if len(parts) == 1 else or_(*parts)


def own_organisation(staff: Staff) -> int | None:
    """The organisation a recipient's whole view is limited to (no channel of their own)."""
    if sees_everything(staff) or staff.role_set & set(CHANNEL_OFFICER.values()):
        return None
    return staff.organisation_id if Role.recipient in staff.role_set else None


def may_filter_by(staff: Staff, organisation_id: int | None) -> bool:
    """A recipient asking by URL for another organisation's items is refused (403), not shown an
    empty list: the list, the export and the dashboard's links all pass here."""
    if organisation_id is None or sees_everything(staff):
        return True
    if staff.role_set & set(CHANNEL_OFFICER.values()):
        return True  # a channel's officer sees that channel's items of every organisation
    return organisation_id == staff.organisation_id


def can_see(staff: Staff | None, item: Item) -> bool:
    """The same rule as `visible`, for one loaded item."""
    if staff is None or not staff.is_active:
        return False
    if sees_everything(staff):
        return True
    roles = staff.role_set
    officer = CHANNEL_OFFICER.get(item.channel)
    if officer is not None and officer in roles:
        return True
    return (Role.recipient in roles and staff.organisation_id is not None
            and item.organisation_id == staff.organisation_id)


# --- the filter ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemFilter:
    status: str = ""  # a status or a key of STATUS_GROUPS
    kind: str = ""
    channel: str = ""
    topic: int | None = None
    settlement: int | None = None
    org: int | None = None
    overdue: bool = False
    due_today: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    def params(self) -> dict[str, str]:
        """The query string that gives this filter back (for page links and the export)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, "", False):
                continue
            key = {"date_from": "from", "date_to": "to"}.get(f.name, f.name)
            out[key] = "1" if value is True else value.isoformat() if isinstance(value, date) else str(value)
        return out

    @property
    def empty(self) -> bool:
        return not self.params()


_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def _date(value: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    return None


def parse_filter(params: Mapping[str, str], _: Gettext) -> tuple[ItemFilter, list[str]]:
    """The filter of a query string and what could not be read (bad values are dropped, never a 500)."""
    errors: list[str] = []
    values: dict[str, Any] = {}

    def text(name: str) -> str:
        return (params.get(name) or "").strip()

    status = text("status")
    if status:
        if status in STATUS_GROUPS or status in Status.__members__:
            values["status"] = status
        else:
            errors.append(_("Неизвестный статус «{value}».").format(value=status[:40]))
    kind = text("kind")
    if kind:
        if kind in ItemKind.__members__:
            values["kind"] = kind
        else:
            errors.append(_("Неизвестный вид «{value}».").format(value=kind[:40]))
    channel = text("channel")
    if channel:
        if channel in Channel.__members__:
            values["channel"] = channel
        else:
            errors.append(_("Неизвестный канал «{value}».").format(value=channel[:40]))
    for name, what in (("topic", N_("тема")), ("settlement", N_("населённый пункт")), ("org", N_("организация"))):
        raw = text(name)
        if not raw:
            continue
        if raw.isdigit() and len(raw) < 12:
            values[name] = int(raw)
        else:
            errors.append(_("Поле «{field}»: нужно выбрать значение из списка.").format(field=_(what)))
    for name, what in (("overdue", N_("просрочено")), ("due_today", N_("срок сегодня"))):
        flag = text(name)
        if flag in ("1", "on", "true", "yes"):
            values[name] = True
        elif flag not in ("", "0", "off", "false", "no"):
            errors.append(_("Поле «{field}»: ожидается да или нет.").format(field=_(what)))
    for name, key in (("from", "date_from"), ("to", "date_to")):
        raw = text(name)
        if not raw:
            continue
        parsed = _date(raw)
        if parsed is None:
            errors.append(_("Дата «{value}» не распознана: нужен формат ДД.ММ.ГГГГ.").format(value=raw[:40]))
        elif not date(2000, 1, 1) <= parsed <= date(2100, 1, 1):
            errors.append(_("Дата «{value}» вне допустимого диапазона.").format(value=raw[:40]))
        else:
            values[key] = parsed
    if values.get("date_from") and values.get("date_to") and values["date_from"] > values["date_to"]:
        errors.append(_("Начало периода позже его конца: даты поменяны местами."))
        values["date_from"], values["date_to"] = values["date_to"], values["date_from"]
    q = text("q")
    if len(q) > MAX_QUERY:
        errors.append(_("Строка поиска сокращена до {limit} символов.").format(limit=MAX_QUERY))
        q = q[:MAX_QUERY]
    values["q"] = q
    return ItemFilter(**values), errors


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz).astimezone(UTC)


def conditions(f: ItemFilter, now: datetime, tz: ZoneInfo, dialect: str, *, col: Callable[[Any], Any] = _as_is,
               search: bool = True) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.status in STATUS_GROUPS:
        out.append(col(Item.status).in_(sorted(s.value for s in STATUS_GROUPS[f.status])))
    elif f.status:
        out.append(col(Item.status) == f.status)
    if f.kind:
        out.append(col(Item.kind) == f.kind)
    if f.channel:
        out.append(col(Item.channel) == f.channel)
    if f.topic is not None:
        out.append(col(Item.topic_id) == f.topic)
    if f.settlement is not None:
        out.append(col(Item.settlement_id) == f.settlement)
    if f.org is not None:
        out.append(col(Item.organisation_id) == f.org)
    if f.overdue or f.due_today:
        out.append(col(Item.status).in_(sorted(s.value for s in UNANSWERED)))
    if f.overdue:
        out.append(col(Item.due_answer_at) < now)
    if f.due_today:
        today = now.astimezone(tz).date()
        out += [col(Item.due_answer_at) >= _day_start(today, tz),
                col(Item.due_answer_at) < _day_start(today + timedelta(days=1), tz)]
    if f.date_from is not None:
        out.append(col(Item.received_at) >= _day_start(f.date_from, tz))
    if f.date_to is not None:
        out.append(col(Item.received_at) < _day_start(f.date_to + timedelta(days=1), tz))
    if search and f.q:
        match = item_matches(f.q, dialect)
        if match is not None:
            out.append(match)
    return out


# --- the page ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ItemRow:
    id: int
    number: str
    received_at: datetime
    kind: str
    channel: str
    status: str
    resolution: str | None
    topic: str | None
    topic_en: str | None
    settlement: str | None
    address: str | None
    organisation: str | None
    due_answer_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    repeat_of: str | None
    text: str

    def overdue(self, now: datetime) -> bool:
        return (self.due_answer_at is not None and self.due_answer_at < now
                and Status(self.status) in UNANSWERED)

    def topic_in(self, language: str) -> str | None:
        return self.topic_en if language == "en" and self.topic_en else self.topic


_Earlier = aliased(Item)


def _rows(page: Any) -> Select[Any]:
    """The shown columns of the page's items (`page`: ids and received_at, already cut to size)."""
    return (
        select(Item.id, Item.number, Item.received_at, Item.kind, Item.channel, Item.status, Item.resolution,
               Topic.name_ru, Topic.name_en, Settlement.name, Item.address, Organisation.name,
               Item.due_answer_at, Item.answered_at, Item.closed_at, _Earlier.number, Item.text)
        .select_from(page)
        .join(Item, Item.id == page.c.id)
        .outerjoin(Topic, Topic.id == Item.topic_id)
        .outerjoin(Settlement, Settlement.id == Item.settlement_id)
        .outerjoin(Organisation, Organisation.id == Item.organisation_id)
        .outerjoin(_Earlier, _Earlier.id == Item.repeat_of_id)
    )


@dataclass(frozen=True, slots=True)
class Cursor:
    received_at: datetime
    id: int

    def encode(self) -> str:
        micros = round(self.received_at.timestamp() * 1_000_000)
        return f"{micros}.{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        if not re.fullmatch(r"-?\d{1,18}\.\d{1,18}", text or ""):
            return None
        micros, ident = text.split(".")
        try:
            at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(micros))
        except OverflowError:
            return None
        return cls(at, int(ident))

    @classmethod
    def of(cls, row: ItemRow) -> Cursor:
        return cls(row.received_at, row.id)


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[ItemRow]
    next: str | None  # cursor of the following (older) page
    previous: str | None  # cursor of the preceding (newer) page


# --- which index walks the list ---------------------------------------------------------------------------
#
# PostgreSQL's planner weighs its statistics and intersects indexes (bitmaps) by itself. SQLite's
# planner picks one index per table, often by a guess; a wrong pick over a million items costs
# seconds (a broad word's 100,000 matches looked up one by one). So the list tells SQLite which index
# to walk — every other condition is written `+column` (`plain`), which SQLite then tests on the
# entries of the walked index (migration 0005 put the filter columns into the list's indexes):
# * "number" — a full number: the unique index;
# * "fts" — a search with few matches (≤ FTS_DRIVES): the matches themselves, then sorted;
# * "org" — one organisation's items: `ix_items_org_list`, already in the page's order;
# * "status" — open statuses, overdue, due today: `ix_items_status_list` — a few per cent of items;
# * "received" — otherwise `ix_items_list`, newest first, stopping at the page's last row.
# The slow case left: filters that together match almost nothing among closed items, outside any
# organisation — the walk then reads the whole list index (index entries only, ~1 µs each).
# PostgreSQL plans each query for its values (`custom_plans`): a plan cached for other values
# (asyncpg prepares statements) once picked the wrong index for a word and took ten times longer.

FTS_DRIVES = 5000
_DRIVERS = {
    "number": frozenset({"number"}),
    "fts": frozenset(),
    "status": frozenset({"status"}),
    "org": frozenset({"organisation_id", "received_at", "id"}),
    "received": frozenset({"received_at", "id"}),
    "planner": None,  # PostgreSQL: every condition as it is
}


def _fts_rowids(q: str) -> Select[Any] | None:
    """SQLite: the rowids matching every word as a prefix — the very MATCH of `core.search`."""
    words = search_words(q)
    if not words:
        return None
    match = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return select(literal_column("rowid")).select_from(text("items_fts")).where(
        text("items_fts MATCH :search_q").bindparams(search_q=match))


async def _sqlite_plan(session: AsyncSession, staff: Staff, f: ItemFilter) -> str:
    if f.q and _NUMBER.match(f.q.strip()):
        return "number"
    fts = _fts_rowids(f.q) if f.q else None
    if fts is not None:
        found = await session.scalar(select(func.count()).select_from(fts.limit(FTS_DRIVES + 1).subquery()))
        if (found or 0) <= FTS_DRIVES:
            return "fts"
    if f.org is not None or own_organisation(staff) is not None:
        return "org"
    if f.overdue or f.due_today or (f.status and _statuses(f) <= OPEN_STATUSES):
        return "status"
    return "received"


def _statuses(f: ItemFilter) -> frozenset[Status]:
    return STATUS_GROUPS[f.status] if f.status in STATUS_GROUPS else frozenset({Status(f.status)})


async def custom_plans(session: AsyncSession) -> None:
    """PostgreSQL: plan this transaction's statements for their values, never a generic plan."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


async def _page_ids(session: AsyncSession, staff: Staff, f: ItemFilter, now: datetime, tz: ZoneInfo, *,
                    cursor: Cursor | None, newer: bool, limit: int) -> Any:
    """The subquery of the page's (id, received_at): `limit` rows past `cursor` (older ones, or with
    `newer` the newer ones in ascending order)."""
    dialect = session.bind.dialect.name
    plan = await _sqlite_plan(session, staff, f) if dialect == "sqlite" else "planner"
    await custom_plans(session)
    drivers = _DRIVERS[plan]

    def col(column: Any) -> Any:
        return column if drivers is None or column.name in drivers else plain(column)

    where = [visible(staff, col), *conditions(f, now, tz, dialect, col=col, search=plan == "planner")]
    if plan == "number":
        where.append(Item.number == f.q.strip())
    elif plan != "planner" and f.q:
        fts = _fts_rowids(f.q)
        if fts is not None:
            where.append((Item.id if plan == "fts" else plain(Item.id)).in_(fts))
    key = tuple_(col(Item.received_at), col(Item.id))
    if cursor is not None:
        where.append(key > (cursor.received_at, cursor.id) if newer else key < (cursor.received_at, cursor.id))
    order = (Item.received_at.asc(), Item.id.asc()) if newer else (Item.received_at.desc(), Item.id.desc())
    return select(Item.id, Item.received_at).where(*where).order_by(*order).limit(limit).subquery("page")


async def _fetch(session: AsyncSession, staff: Staff, f: ItemFilter, now: datetime, tz: ZoneInfo, *,
                 cursor: Cursor | None, newer: bool, limit: int) -> list[ItemRow]:
    page = await _page_ids(session, staff, f, now, tz, cursor=cursor, newer=newer, limit=limit)
    order = (page.c.received_at.asc(), page.c.id.asc()) if newer else (page.c.received_at.desc(), page.c.id.desc())
    rows = [ItemRow(*r) for r in (await session.execute(_rows(page).order_by(*order))).all()]
    return list(reversed(rows)) if newer else rows


async def list_page(session: AsyncSession, staff: Staff, f: ItemFilter, *, now: datetime, tz: ZoneInfo,
                    after: str | None = None, before: str | None = None, size: int = PAGE_SIZE) -> Page:
    """One page: the first, the one older than `after`, or the one newer than `before`."""
    older, newer = Cursor.decode(after or ""), Cursor.decode(before or "")
    if newer is not None:
        rows = await _fetch(session, staff, f, now, tz, cursor=newer, newer=True, limit=size + 1)
        more_newer = len(rows) > size
        rows = rows[-size:] if more_newer else rows
        return Page(rows, Cursor.of(rows[-1]).encode() if rows else None,
                    Cursor.of(rows[0]).encode() if rows and more_newer else None)
    rows = await _fetch(session, staff, f, now, tz, cursor=older, newer=False, limit=size + 1)
    more_older = len(rows) > size
    rows = rows[:size]
    return Page(rows, Cursor.of(rows[-1]).encode() if rows and more_older else None,
                Cursor.of(rows[0]).encode() if rows and older is not None else None)


async def export_batches(sessionmaker: async_sessionmaker[AsyncSession], staff: Staff, f: ItemFilter, *,
                         now: datetime, tz: ZoneInfo, batch: int = EXPORT_BATCH,
                         limit: int | None = None) -> AsyncIterator[list[ItemRow]]:
    """Every matching row in page order, `batch` rows per short transaction: between batches the
    connection is free (on SQLite it is the only one, and a slow download must not hold it)."""
    cursor: Cursor | None = None
    given = 0
    while limit is None or given < limit:
        size = batch if limit is None else min(batch, limit - given)
        async with sessionmaker() as session:
            rows = await _fetch(session, staff, f, now, tz, cursor=cursor, newer=False, limit=size)
        if not rows:
            return
        yield rows
        given += len(rows)
        if len(rows) < size:
            return
        cursor = Cursor.of(rows[-1])


# --- the export's columns -------------------------------------------------------------------------------


def export_header(_: Gettext) -> list[str]:
    return [_("Номер"), _("Получено"), _("Вид"), _("Канал"), _("Статус"), _("Итог"), _("Тема"),
            _("Населённый пункт"), _("Адрес"), _("Исполнитель"), _("Срок ответа"), _("Просрочено"),
            _("Ответ дан"), _("Закрыто"), _("Повторное, ранее"), _("Текст")]


def resolution_label(resolution: str | None, _: Gettext) -> str:
    if not resolution:
        return ""
    return {
        "satisfied": _("решено"),
        "auto": _("закрыто автоматически"),
        "not_resolved": _("не решено"),
        "postponed": _("отложено"),
        "duplicate": _("дубликат"),
    }.get(resolution, resolution)


def export_values(row: ItemRow, now: datetime, tz: ZoneInfo, _: Gettext, language: str) -> list[Any]:
    """One row of the export: local times, labels in the reader's language; no contact of the citizen."""
    from core.cards import kind_label, status_label

    def at(dt: datetime | None) -> datetime | None:
        return None if dt is None else dt.astimezone(tz).replace(tzinfo=None, microsecond=0)

    return [row.number, at(row.received_at), kind_label(row.kind, _), channel_label(row.channel, _),
            status_label(row.status, _), resolution_label(row.resolution, _), row.topic_in(language) or "",
            row.settlement or "", row.address or "", row.organisation or "", at(row.due_answer_at),
            _("да") if row.overdue(now) else "", at(row.answered_at), at(row.closed_at), row.repeat_of or "",
            row.text]


# --- the choices of the filter form ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choices:
    topics: list[tuple[int, str, str]]  # id, Russian name, English name
    settlements: list[tuple[int, str]]
    organisations: list[tuple[int, str]]


async def filter_choices(session: AsyncSession, staff: Staff) -> Choices:
    topics = [(t.id, t.name_ru, t.name_en) for t in await session.scalars(select(Topic).order_by(Topic.sort, Topic.id))]
    settlements = [(s.id, s.name) for s in await session.scalars(select(Settlement).order_by(Settlement.name))]
    organisations: list[tuple[int, str]] = []
    if sees_everything(staff) or staff.role_set & set(CHANNEL_OFFICER.values()):
        organisations = [(o.id, o.name) for o in await session.scalars(select(Organisation).order_by(Organisation.name))]
    return Choices(topics, settlements, organisations)

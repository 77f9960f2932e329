"""The admin's items list on a real database: the filter read from a query string, who sees what,
each filter, full-text search, keyset pages and the export's rows."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import item_list as il
from core.i18n import gettext_for
from core.staff import add_staff
from db.models import (
    Channel,
    Item,
    ItemKind,
    Organisation,
    Role,
    Settlement,
    Status,
    Topic,
)

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Moscow")
_ = gettext_for("ru")
_numbers = count(1)


def number() -> str:
    return f"2026-{next(_numbers):06d}"


class Office:
    """Two organisations, a curator, an analyst, a ПОС officer, a recipient of each organisation."""


@pytest.fixture
async def office(sessionmaker: async_sessionmaker[AsyncSession]):
    async with sessionmaker() as session, session.begin():
        o = Office()
        o.zhkh, o.edu = Organisation(name="Отдел ЖКХ"), Organisation(name="Отдел образования")
        session.add_all([o.zhkh, o.edu])
        await session.flush()
        o.curator, _c = await add_staff(session, telegram_id=1, roles=[Role.curator], name="Куратор")
        o.analyst, _c = await add_staff(session, telegram_id=2, roles=[Role.analyst], name="Аналитик")
        o.pos, _c = await add_staff(session, telegram_id=3, roles=[Role.pos_officer], name="ПОС")
        o.zhkh_official, _c = await add_staff(session, telegram_id=4, roles=[Role.recipient], name="Иванов")
        o.zhkh_official.organisation_id = o.zhkh.id
        o.edu_official, _c = await add_staff(session, telegram_id=5, roles=[Role.recipient], name="Сидорова")
        o.edu_official.organisation_id = o.edu.id
        o.publisher, _c = await add_staff(session, telegram_id=6, roles=[Role.gospublic_officer], name="Госпаблики")
        o.housing = await session.scalar(select(Topic).where(Topic.code == "housing"))
        o.roads = await session.scalar(select(Topic).where(Topic.code == "roads"))
        o.village = await session.scalar(select(Settlement).where(Settlement.name == "Новодугино"))
        o.other_village = await session.scalar(select(Settlement).where(Settlement.name != "Новодугино").limit(1))
    return o


async def add_item(sessionmaker, **values) -> Item:
    defaults = {"number": number(), "kind": ItemKind.message, "channel": Channel.bot,
                "status": Status.registered, "text": "Текст", "received_at": NOW - timedelta(hours=1)}
    async with sessionmaker() as session, session.begin():
        item = Item(**{**defaults, **values})
        session.add(item)
    return item


async def numbers(sessionmaker, staff, f: il.ItemFilter, size: int = 100) -> list[str]:
    async with sessionmaker() as session:
        page = await il.list_page(session, staff, f, now=NOW, tz=TZ, size=size)
    return [r.number for r in page.rows]


# --- the filter from a query string -----------------------------------------------------------------------


def test_a_good_query_string_becomes_a_filter() -> None:
    f, errors = il.parse_filter({"status": "open", "kind": "appeal", "channel": "pos", "topic": "3",
                                 "settlement": "7", "org": "12", "overdue": "1", "from": "2026-03-01",
                                 "to": "10.03.2026", "q": "  труба в подъезде "}, _)
    assert errors == []
    assert f == il.ItemFilter(status="open", kind="appeal", channel="pos", topic=3, settlement=7, org=12,
                              overdue=True, date_from=date(2026, 3, 1), date_to=date(2026, 3, 10),
                              q="труба в подъезде")
    again, errors = il.parse_filter(f.params(), _)
    assert again == f and errors == []
    assert il.parse_filter({}, _) == (il.ItemFilter(), [])
    assert il.ItemFilter().empty and not f.empty


def test_bad_values_are_explained_and_left_out() -> None:
    f, errors = il.parse_filter({"status": "lost", "kind": "letter", "channel": "fax", "topic": "жкх",
                                 "org": "1; drop table items", "overdue": "maybe", "from": "31.02.2026",
                                 "to": "вчера"}, _)
    assert f == il.ItemFilter()
    text = " ".join(errors)
    assert len(errors) == 8
    assert "Неизвестный статус «lost»" in text and "Неизвестный канал «fax»" in text
    assert "Дата «31.02.2026» не распознана" in text and "Дата «вчера» не распознана" in text
    assert "«тема»" in text and "«организация»" in text


def test_a_period_given_backwards_is_turned_round_with_a_note() -> None:
    f, errors = il.parse_filter({"from": "2026-03-10", "to": "2026-03-01"}, _)
    assert (f.date_from, f.date_to) == (date(2026, 3, 1), date(2026, 3, 10))
    assert errors and "поменяны местами" in errors[0]


def test_english_messages_for_an_english_reader() -> None:
    _f, errors = il.parse_filter({"from": "nonsense"}, gettext_for("en"))
    assert errors and "nonsense" in errors[0]


# --- who sees what ------------------------------------------------------------------------------------------


async def test_visible_scopes_items_by_role(sessionmaker, office) -> None:
    zhkh = await add_item(sessionmaker, organisation_id=office.zhkh.id)
    edu = await add_item(sessionmaker, organisation_id=office.edu.id, channel=Channel.pos)
    nobody = await add_item(sessionmaker)
    everything = {zhkh.number, edu.number, nobody.number}
    f = il.ItemFilter()
    assert set(await numbers(sessionmaker, office.curator, f)) == everything
    assert set(await numbers(sessionmaker, office.analyst, f)) == everything
    assert await numbers(sessionmaker, office.zhkh_official, f) == [zhkh.number]
    assert await numbers(sessionmaker, office.edu_official, f) == [edu.number]
    assert await numbers(sessionmaker, office.pos, f) == [edu.number]  # the ПОС channel
    assert await numbers(sessionmaker, office.publisher, f) == []
    office.zhkh_official.is_active = False
    assert await numbers(sessionmaker, office.zhkh_official, f) == []
    assert il.can_see(office.curator, zhkh) and il.can_see(office.edu_official, edu)
    assert not il.can_see(office.edu_official, zhkh) and not il.can_see(office.publisher, nobody)
    assert il.can_see(office.pos, edu) and not il.can_see(office.pos, zhkh)
    assert not il.can_see(None, zhkh)


# --- each filter ----------------------------------------------------------------------------------------------


async def test_each_filter_narrows_the_list(sessionmaker, office) -> None:
    base = await add_item(sessionmaker)
    closed = await add_item(sessionmaker, status=Status.closed)
    in_work = await add_item(sessionmaker, status=Status.in_work, organisation_id=office.zhkh.id,
                             due_answer_at=NOW - timedelta(days=1))
    on_time = await add_item(sessionmaker, status=Status.in_work, organisation_id=office.edu.id,
                             due_answer_at=NOW + timedelta(days=1))
    late_but_answered = await add_item(sessionmaker, status=Status.delivered, due_answer_at=NOW - timedelta(days=3))
    appeal = await add_item(sessionmaker, kind=ItemKind.appeal, channel=Channel.phone)
    housing = await add_item(sessionmaker, topic_id=office.housing.id, settlement_id=office.village.id)
    roads = await add_item(sessionmaker, topic_id=office.roads.id, settlement_id=office.other_village.id)
    # Local midnight in Moscow is 21:00 UTC the day before: an item at 22:00 UTC on March 1 is March 2.
    march_2 = await add_item(sessionmaker, received_at=datetime(2026, 3, 1, 22, 0, tzinfo=UTC))
    march_1 = await add_item(sessionmaker, received_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))

    async def only(**values) -> set[str]:
        return set(await numbers(sessionmaker, office.curator, il.ItemFilter(**values)))

    assert await only(status="closed") == {closed.number}
    assert await only(status="final") == {closed.number}
    assert closed.number not in await only(status="open") and base.number in await only(status="open")
    assert await only(status="unanswered") >= {in_work.number, on_time.number, base.number}
    assert late_but_answered.number not in await only(status="unanswered")
    assert await only(kind="appeal") == {appeal.number}
    assert await only(channel="phone") == {appeal.number}
    assert await only(topic=office.housing.id) == {housing.number}
    assert await only(settlement=office.other_village.id) == {roads.number}
    assert await only(org=office.edu.id) == {on_time.number}
    assert await only(overdue=True) == {in_work.number}
    assert await only(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2)) == {march_2.number}
    assert await only(date_to=date(2026, 3, 1)) == {march_1.number}
    assert await only(topic=office.housing.id, status="closed") == set()
    assert await only(topic=office.roads.id, settlement=office.other_village.id, status="open") == {roads.number}


async def test_search_by_russian_words_and_by_full_number(sessionmaker, office) -> None:
    pipe = await add_item(sessionmaker, text="Прорвало трубу отопления в подъезде, вода течёт по стенам",
                          address="ул. Садовая, 3")
    road = await add_item(sessionmaker, text="Яма на дороге у школы", address="ул. Школьная, 1")
    roof = await add_item(sessionmaker, text="Течёт крыша над подъездом", address="ул. Садовая, 5")

    async def search(q: str) -> set[str]:
        return set(await numbers(sessionmaker, office.curator, il.ItemFilter(q=q)))

    assert await search("подъезд") == {pipe.number, roof.number}
    assert await search("подъезд отопления") == {pipe.number}
    assert await search("яма школ") == {road.number}
    assert await search("Садовая") == {pipe.number, roof.number}
    assert await search(road.number) == {road.number}
    assert await search("водопровод") == set()
    assert await search('"; drop table items; --') == set()  # FTS syntax and SQL are only words
    # A recipient's search stays inside the organisation.
    assert set(await numbers(sessionmaker, office.zhkh_official, il.ItemFilter(q="подъезд"))) == set()


# --- keyset pages ----------------------------------------------------------------------------------------------


async def test_keyset_pages_neither_repeat_nor_skip_forward_and_back(sessionmaker, office) -> None:
    async with sessionmaker() as session, session.begin():
        for n in range(57):
            # Every third item shares its moment with the next: the id breaks the tie.
            at = NOW - timedelta(minutes=n - n % 3)
            session.add(Item(number=number(), kind="message", channel="bot", status="registered", text="x",
                             received_at=at))
    async with sessionmaker() as session:
        expected = [n for n, in (await session.execute(
            select(Item.number).order_by(Item.received_at.desc(), Item.id.desc()))).all()]
        pages, after = [], None
        while True:
            page = await il.list_page(session, office.curator, il.ItemFilter(), now=NOW, tz=TZ, after=after, size=10)
            pages.append(page)
            if page.next is None:
                break
            after = page.next
        walked = [r.number for p in pages for r in p.rows]
        assert walked == expected and len(pages) == 6
        assert pages[0].previous is None and all(p.previous for p in pages[1:])
        # Back from the last page with «Предыдущие»: the same pages, in reverse.
        back, before = [], pages[-1].previous
        while before is not None:
            page = await il.list_page(session, office.curator, il.ItemFilter(), now=NOW, tz=TZ, before=before,
                                      size=10)
            back.append([r.number for r in page.rows])
            before = page.previous
        assert back == [[r.number for r in p.rows] for p in reversed(pages[:-1])]
        # A damaged cursor gives the first page, not an error.
        first = await il.list_page(session, office.curator, il.ItemFilter(), now=NOW, tz=TZ, after="x'; --",
                                   size=10)
        assert [r.number for r in first.rows] == expected[:10]


def test_cursor_round_trip() -> None:
    cursor = il.Cursor(datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC), 42)
    assert il.Cursor.decode(cursor.encode()) == cursor
    assert il.Cursor.decode("") is None and il.Cursor.decode("1.2.3") is None
    assert il.Cursor.decode("999999999999999999.1") is None  # beyond the calendar


# --- the export --------------------------------------------------------------------------------------------------


async def test_export_batches_give_every_row_once_in_order(sessionmaker, office) -> None:
    made = [await add_item(sessionmaker, received_at=NOW - timedelta(minutes=n), organisation_id=office.zhkh.id,
                           topic_id=office.housing.id) for n in range(23)]
    await add_item(sessionmaker, organisation_id=office.edu.id)
    rows = [r async for batch in il.export_batches(sessionmaker, office.zhkh_official, il.ItemFilter(), now=NOW,
                                                   tz=TZ, batch=5) for r in batch]
    assert [r.number for r in rows] == [i.number for i in made]
    limited = [r async for batch in il.export_batches(sessionmaker, office.curator, il.ItemFilter(), now=NOW,
                                                      tz=TZ, batch=5, limit=7) for r in batch]
    assert len(limited) == 7
    values = il.export_values(rows[0], NOW, TZ, _, "ru")
    assert values[0] == made[0].number and values[1] == datetime(2026, 3, 10, 12, 0)  # Moscow time
    assert values[3] == "Telegram-бот" and values[4] == "зарегистрировано" and values[9] == "Отдел ЖКХ"
    assert len(values) == len(il.export_header(_))


@pytest.mark.parametrize("drives", [il.FTS_DRIVES, 0])
async def test_every_walk_of_the_list_gives_the_same_rows(sessionmaker, office, monkeypatch, drives) -> None:
    """On SQLite the list picks the index to walk (matches, organisation, deadlines, newest first);
    whichever it picks, the rows and their order are those of the plain query. `drives=0` sends a
    search down the newest-first walk, as a broad word over a million items does."""
    monkeypatch.setattr(il, "FTS_DRIVES", drives)
    made = []
    for n in range(40):
        made.append(await add_item(
            sessionmaker, received_at=NOW - timedelta(hours=n // 2), text="Течёт крыша" if n % 3 else "Яма",
            status=(Status.in_work, Status.closed, Status.registered)[n % 3],
            organisation_id=(office.zhkh.id, office.edu.id, None)[n % 3 - 1] if n % 3 else None,
            topic_id=office.housing.id if n % 2 else office.roads.id,
            due_answer_at=NOW + timedelta(days=(n % 5) - 2)))
    cases = [il.ItemFilter(q="крыша"), il.ItemFilter(q="крыша", org=office.zhkh.id),
             il.ItemFilter(q="крыша", overdue=True), il.ItemFilter(q="течёт", topic=office.housing.id, status="open"),
             il.ItemFilter(status="closed"), il.ItemFilter(overdue=True), il.ItemFilter(org=office.edu.id)]
    for f in cases:
        async with sessionmaker() as session:
            where = [il.visible(office.curator), *il.conditions(f, NOW, TZ, session.bind.dialect.name)]
            expected = [n for n, in (await session.execute(
                select(Item.number).where(*where).order_by(Item.received_at.desc(), Item.id.desc()))).all()]
        assert await numbers(sessionmaker, office.curator, f) == expected, f
        assert expected or f.overdue  # the cases are not empty by accident
        if f.org is None:
            mine = [n for n in expected if n in {i.number for i in made if i.organisation_id == office.zhkh.id}]
            assert await numbers(sessionmaker, office.zhkh_official, f) == mine, f

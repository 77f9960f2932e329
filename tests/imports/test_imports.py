"""ПОС and «Инцидент менеджмент» exports on a real database: real xlsx and csv files."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle as lc
from core.imports import Directory, format_report, import_file, parse_created
from core.settings import Settings
from core.staff import add_staff
from db.models import (
    Citizen,
    Item,
    ItemEvent,
    ItemKind,
    OutboxMessage,
    Role,
    Settlement,
    Status,
    Theme,
    Topic,
)
from tests.imports.helpers import POS_HEADER, csv_bytes, xlsx

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


class World:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings

    async def ctx(self, now: datetime = NOW) -> lc.LifecycleContext:
        return await lc.lifecycle_context(self.session, self.settings, now)

    async def run(self, data: bytes, name: str = "pos.xlsx", channel: str = "pos", **kw):
        return await import_file(await self.ctx(), data, name, channel, **kw)

    async def items(self) -> list[Item]:
        await self.session.flush()
        return list((await self.session.scalars(select(Item).order_by(Item.id))).all())

    async def count(self) -> int:
        await self.session.flush()
        return int(await self.session.scalar(select(func.count()).select_from(Item)) or 0)


@pytest.fixture
async def w(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings):
    async with sessionmaker() as session:
        yield World(session, settings)
        await session.rollback()


def pos_row(number, created="01.03.2026 10:15", group="Дороги", theme="Организация парковок",
            mo="Новодугинский МО", settlement="с. Новодугино", address="ул. Советская, 5",
            text="Негде парковаться у поликлиники", fz59="нет"):
    return [number, created, group, theme, mo, settlement, address, text, fz59]


async def test_xlsx_from_pos_is_registered_with_its_theme_place_and_deadlines(w: World) -> None:
    officer, _ = await add_staff(w.session, telegram_id=7001, roles=[Role.pos_officer], name="Петрова")
    data = xlsx([POS_HEADER, pos_row("ПОС-101"),
                 pos_row(2002, created=datetime(2026, 3, 2, 8, 30), fz59="да", text="Прошу отремонтировать дорогу")])
    report = await w.run(data, staff_id=officer.id)

    assert not report.refused and report.imported == 2 and report.rows == 2
    first, second = await w.items()
    assert report.numbers == [first.number, second.number]
    parking = await w.session.scalar(select(Theme).where(Theme.name == "Организация парковок"))
    village = await w.session.scalar(select(Settlement).where(Settlement.name == "Новодугино"))
    assert (first.channel, first.external_id, first.kind) == ("pos", "ПОС-101", ItemKind.message)
    assert (second.external_id, second.kind) == ("2002", ItemKind.appeal)  # an Excel number, as text
    assert first.theme_id == parking.id and first.topic_id == parking.topic_id
    assert first.settlement_id == village.id and first.address == "ул. Советская, 5"
    # Moscow time in the file; stored in UTC; the clocks run from the creation in ПОС.
    assert first.received_at == datetime(2026, 3, 1, 7, 15, tzinfo=UTC) == first.registered_at
    assert second.received_at == datetime(2026, 3, 2, 5, 30, tzinfo=UTC)
    assert first.status == Status.registered and first.due_answer_at is not None
    assert second.due_answer_at == datetime(2026, 4, 1, 5, 30, tzinfo=UTC)  # 59-ФЗ: 30 days
    created = await w.session.scalar(
        select(ItemEvent).where(ItemEvent.item_id == first.id, ItemEvent.action == "created"))
    assert created.actor_staff_id == officer.id and created.comment == "imported: pos.xlsx"
    # after_registration ran: the route is suggested, and the ПОС officer gets one message for the file.
    cards = (await w.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 7001))).all()
    assert len(cards) == 1 and "ждут распределения 2" in cards[0].payload["text"]
    assert await w.session.scalar(select(func.count()).select_from(Citizen)) == 0


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ";"), ("utf-8-sig", ","), ("cp1251", ";"),
                                                     ("cp1251", "\t")])
async def test_csv_in_the_encodings_and_delimiters_office_software_writes(w: World, encoding, delimiter) -> None:
    header = ["Номер", "Создано", "Тематика", "Тема", "МО", "Населенный пункт", "Адрес", "Описание"]
    rows = [header,
            ["IM-1", "2026-03-05 14:20", "ЖКХ", "Жалобы на управляющие компании", "", "Высокое",
             "ул. Лесная, 2", "Управляющая компания не отвечает; а ещё «течёт» крыша, второй год"],
            ["IM-2", "05.03.2026", "", "", "", "", "", "Многострочный\nтекст из соцсети"]]
    report = await w.run(csv_bytes(rows, encoding=encoding, delimiter=delimiter), "im.csv", "im")
    assert not report.refused, format_report(report)
    assert report.imported == 2
    one, two = await w.items()
    assert one.text == "Управляющая компания не отвечает; а ещё «течёт» крыша, второй год"
    housing = await w.session.scalar(select(Topic).where(Topic.code == "housing"))
    assert one.topic_id == housing.id and one.theme_id is not None and one.kind == ItemKind.message
    assert one.received_at == datetime(2026, 3, 5, 11, 20, tzinfo=UTC)
    assert two.text == "Многострочный\nтекст из соцсети" and two.topic_id is None and two.settlement_id is None
    assert two.received_at == datetime(2026, 3, 4, 21, 0, tzinfo=UTC)  # midnight in Moscow


async def test_english_headers_and_a_title_above_the_table(w: World) -> None:
    data = xlsx([["External ID", "Created at", "Text", "fz59"], ["A-1", "2026-03-01T10:00:00+03:00", "Hello", "TRUE"]],
                title_rows=[["Выгрузка ПОС за март"], []], extra_sheets=["Пустой"])
    report = await w.run(data)
    assert report.imported == 1, format_report(report)
    (item,) = await w.items()
    assert item.received_at == datetime(2026, 3, 1, 7, 0, tzinfo=UTC) and item.kind == ItemKind.appeal


async def test_missing_required_columns_refuse_the_whole_file(w: World) -> None:
    data = xlsx([["Дата", "Тема", "Адрес"], ["01.03.2026", "Организация парковок", "ул. Мира, 1"]])
    report = await w.run(data, "bad.xlsx")
    assert report.refused and report.imported == 0
    text = format_report(report, "ru")
    assert text.startswith("Файл «bad.xlsx» (ПОС) не импортирован: нет обязательных столбцов: «номер», «текст».")
    assert await w.count() == 0


async def test_every_bad_row_is_listed_and_nothing_is_imported(w: World) -> None:
    rows = [POS_HEADER,
            pos_row("1"),                                   # row 2: fine
            pos_row(""),                                    # row 3: empty number
            pos_row("3", created="31.02.2026"),             # row 4: no such date
            pos_row("4", created="11.03.2026 09:00"),       # row 5: in the future
            pos_row("5", text="   "),                       # row 6: empty text
            pos_row("1"),                                   # row 7: the number of row 2 again
            pos_row("7", fz59="может быть"),                # row 8: not a yes/no
            [None] * 9,                                     # row 9: empty, ignored
            pos_row("8", created="")]                       # row 10: empty date
    report = await w.run(xlsx(rows))
    assert report.refused and report.imported == 0 and await w.count() == 0
    found = [(e.row, e.column) for e in report.errors]
    assert found == [(3, "№ обращения"), (4, "Дата создания"), (5, "Дата создания"), (6, "Текст обращения"),
                     (7, "№ обращения"), (8, "59-ФЗ"), (10, "Дата создания")]
    text = format_report(report)
    assert "Ничего не записано" in text and "Строк с данными: 8, ошибок: 7." in text
    assert "• строка 4, «Дата создания» («31.02.2026»): дата не распознана" in text
    assert "• строка 5, «Дата создания» («11.03.2026 09:00»): дата в будущем" in text
    assert "• строка 7, «№ обращения» («1»): этот номер уже есть в строке 2" in text
    assert "• строка 8, «59-ФЗ» («может быть»)" in text


async def test_the_same_file_twice_changes_nothing(w: World) -> None:
    data = xlsx([POS_HEADER, pos_row("1"), pos_row("2")])
    first = await w.run(data)
    assert first.imported == 2
    events = await w.session.scalar(select(func.count()).select_from(ItemEvent))
    again = await w.run(data)
    assert (again.imported, again.skipped_existing, again.refused) == (0, 2, False)
    assert await w.count() == 2
    assert await w.session.scalar(select(func.count()).select_from(ItemEvent)) == events
    assert "Уже были импортированы раньше и пропущены: 2." in format_report(again)
    # A newer export repeats old rows and adds new ones; only the new ones come in.
    more = await w.run(xlsx([POS_HEADER, pos_row("2"), pos_row("3")]))
    assert (more.imported, more.skipped_existing) == (1, 1) and await w.count() == 3
    # The same number from the other system is another item.
    other = await w.run(csv_bytes([["Номер", "Дата создания", "Текст"], ["1", "01.03.2026", "Пост в VK"]]),
                        "im.csv", "im")
    assert other.imported == 1


async def test_unknown_theme_and_settlement_are_warnings_not_errors(w: World) -> None:
    rows = [POS_HEADER,
            pos_row("1", group="Дороги", theme="Ямы на луне"),
            pos_row("2", group="Космос", theme="Ракеты", settlement="д. Неизвестная", address="ул. Мира, 1"),
            pos_row("3", group="Космос", theme="Ракеты"),
            pos_row("4", group="ЖКХ", theme="", settlement="ДЕРЕВНЯ ТЁСОВО")]
    report = await w.run(xlsx(rows))
    assert not report.refused and report.imported == 4
    roads, other, housing = [await w.session.scalar(select(Topic).where(Topic.code == c))
                             for c in ("roads", "other", "housing")]
    one, two, three, four = await w.items()
    assert (one.topic_id, one.theme_id) == (roads.id, None)  # the group still tells the topic
    assert (two.topic_id, three.topic_id) == (other.id, other.id)
    assert two.settlement_id is None and two.address == "Новодугинский МО, д. Неизвестная, ул. Мира, 1"
    tesovo = await w.session.scalar(select(Settlement).where(Settlement.name == "Тесово"))
    assert four.settlement_id == tesovo.id and four.topic_id == housing.id
    text = format_report(report)
    assert "• строка 2: тема «Ямы на луне» (группа «Дороги») не найдена в справочнике — отнесено к теме «Дороги»" in text
    assert "• строки 3, 4: тема «Ракеты» (группа «Космос») не найдена в справочнике — отнесено к теме «Прочее»" in text
    assert "• строка 3: населённый пункт «д. Неизвестная» не найден в справочнике — сохранён в адресе" in text


async def test_two_thousand_rows_import_in_one_go_with_progress(w: World) -> None:
    rows = [POS_HEADER] + [pos_row(f"P-{n}", created=datetime(2026, 1, 1) + timedelta(minutes=n), text=f"Обращение {n}")
                           for n in range(2000)]
    seen: list[tuple[int, int]] = []
    report = await w.run(xlsx(rows), progress=lambda done, total: seen.append((done, total)))
    assert report.imported == 2000 and not report.refused
    assert await w.count() == 2000
    assert seen[0] == (1, 2000) and seen[-1] == (2000, 2000) and len(seen) == 2000
    assert "Номера: № " in format_report(report) and " … № " in format_report(report)


async def test_dry_run_checks_without_writing(w: World) -> None:
    await w.run(xlsx([POS_HEADER, pos_row("1")]))
    report = await w.run(xlsx([POS_HEADER, pos_row("1"), pos_row("2"), pos_row("3")]), dry_run=True)
    assert (report.imported, report.skipped_existing, report.numbers) == (2, 1, [])
    assert await w.count() == 1
    assert "без записи" in format_report(report) and "Будет импортировано: 2." in format_report(report)


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Старый формат .xls не поддерживается"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip", "не читается как таблица Excel"),
    ("photo.jpg", b"\xff\xd8\xff\xe0", "Нужен файл .xlsx или .csv"),
    ("utf16.csv", "Номер;Текст".encode("utf-16"), "Файл не похож на текстовый .csv"),
    ("empty.csv", b"", "нет обязательных столбцов"),
])
async def test_files_that_are_not_tables_are_refused(w: World, name, data, reason) -> None:
    report = await w.run(data, name)
    assert report.refused and reason in format_report(report)
    assert await w.count() == 0


def test_dates_in_every_form_the_exports_use() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Moscow")
    expected = datetime(2026, 3, 1, 7, 15, tzinfo=UTC)
    for value in ("01.03.2026 10:15", "1.3.2026 10:15:00", "01.03.2026, 10:15", "2026-03-01 10:15",
                  "2026-03-01T10:15:00", "2026-03-01 10:15:00.000", "2026-03-01T07:15:00Z",
                  datetime(2026, 3, 1, 10, 15), 46082 + (10 * 60 + 15) / 1440, "46082.427083333336"):
        assert abs(parse_created(value, tz) - expected) < timedelta(seconds=1), value
    assert parse_created("01.03.2026", tz) == datetime(2026, 2, 28, 21, 0, tzinfo=UTC)
    for bad in ("вчера", "2026-13-01", "32.01.2026", True, -5):
        with pytest.raises(ValueError):
            parse_created(bad, tz)


async def test_directory_matching_ignores_case_yo_and_punctuation(w: World) -> None:
    directory = await Directory.load(w.session)
    parking = await w.session.scalar(select(Theme).where(Theme.name == "Организация парковок"))
    assert directory.classify("дороги", "ОРГАНИЗАЦИЯ ПАРКОВОК.")[1] == parking.id
    assert directory.classify("", "организация парковок")[1] == parking.id  # unique name, no group
    energy = await w.session.scalar(select(Topic).where(Topic.code == "energy"))
    assert directory.classify("", "Энергетика") == (energy.id, None, True)  # a decree topic by name
    assert directory.classify("", "") == (None, None, True)



async def test_the_officer_gets_one_message_per_file_not_a_card_per_row(w: World) -> None:
    officer, _ = await add_staff(w.session, telegram_id=7701, roles=[Role.pos_officer], name="ПОС")
    rows = [POS_HEADER] + [pos_row(f"Q-{n}", text=f"Обращение {n}") for n in range(30)]
    report = await w.run(xlsx(rows), name="pos-march.xlsx")
    assert report.imported == 30
    await w.session.flush()
    sent = (await w.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 7701))).all()
    assert len(sent) == 1
    assert "pos-march.xlsx" in sent[0].payload["text"] and "ждут распределения 30" in sent[0].payload["text"]
    again = await w.run(xlsx(rows), name="pos-march.xlsx")  # nothing new: nothing to say
    assert again.skipped_existing == 30
    await w.session.flush()
    assert len((await w.session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 7701))).all()) == 1

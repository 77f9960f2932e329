"""The spreadsheet: four sheets with bold frozen headers and filters, real dates in the district's
zone, shares in the % format, every item and every overdue one."""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook

from core.i18n import gettext_for
from core.report_xlsx import file_name, workbook_bytes
from tests.reports.samples import TRICKY, empty_report, sample_report

RU = gettext_for("ru")


def open_book(data: bytes):
    return load_workbook(io.BytesIO(data))


def header(ws, row: int = 1) -> list[str]:
    return [c.value for c in ws[row] if c.value is not None]


def test_four_sheets_with_their_headers_and_rows() -> None:
    report = sample_report(items=40)
    book = open_book(workbook_bytes(report, RU))
    assert book.sheetnames == ["Сводка", "Обращения", "Рейтинг", "Просрочено"]

    summary = book["Сводка"]
    assert summary["A1"].value == "Отчёт МЦУ за 01.11.2026 — 30.11.2026" and summary["A1"].font.b
    assert summary.freeze_panes == "A7"
    assert header(summary, 6) == ["Показатель", "Текущий период", "Предыдущий период", "Изменение"]
    assert all(c.font.b for c in summary[6])
    rows = {r[0]: r[1:] for r in summary.iter_rows(min_row=7, values_only=True)}
    assert rows["Поступило обращений"] == (120, 104, 16)
    assert rows["  тематика: ЖКХ"] == (60, 48, 12)
    assert rows["Доля ответов в срок"][0] == 76 / 95
    on_time = next(r for r in summary.iter_rows(min_row=7) if r[0].value == "Доля ответов в срок")
    assert on_time[1].number_format == "0.0%"
    assert summary.auto_filter.ref.startswith("A6:D")

    items = book["Обращения"]
    assert items.freeze_panes == "A2" and items.auto_filter.ref == "A1:O41"
    assert header(items)[:5] == ["Номер", "Поступило", "Вид", "Канал", "Статус"]
    assert items.max_row == 41
    first = [c for c in items[2]]
    assert first[0].value == "2026-000001"
    # A real date, in Moscow time (the sample's first item came at midnight local time).
    assert first[1].value == datetime(2026, 11, 1, 0, 0) and first[1].number_format == "DD.MM.YYYY HH:MM"
    assert first[3].value == "бот" and first[4].value == "ответ направлен заявителю"
    assert first[9].value == TRICKY  # a plain cell: no escaping needed, shown as written

    rating = book["Рейтинг"]
    assert header(rating)[:3] == ["Срез", "Место", "Организация"]
    lines = list(rating.iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[1], r[2]) for r in lines[:2]] == [("все каналы", 1, "Отдел образования"),
                                                       ("все каналы", 2, "Отдел ЖКХ и благоустройства")]
    assert len(lines) == 4 + 2  # all four, then the two of ПОС
    assert rating["F2"].number_format == "0.0%" and rating["F2"].value == 1.0

    overdue = book["Просрочено"]
    assert header(overdue) == ["Номер", "Исполнитель", "Тематика", "Срок ответа", "Просрочено, раб. дн.", "Статус"]
    late = list(overdue.iter_rows(min_row=2, values_only=True))
    assert len(late) == 7 and late[0][0] == "2026-000100" and late[0][4] == 10
    assert late[0][3] == datetime(2026, 11, 20, 18, 0)  # 15:00 UTC is 18:00 in Moscow
    for ws in book:
        assert ws.column_dimensions["A"].width >= 8


def test_an_empty_period_still_opens_with_its_four_sheets() -> None:
    book = open_book(workbook_bytes(empty_report(), RU))
    assert book.sheetnames == ["Сводка", "Обращения", "Рейтинг", "Просрочено"]
    assert book["Обращения"].max_row == 1 and header(book["Обращения"])[0] == "Номер"


def test_a_big_period_streams() -> None:
    book = open_book(workbook_bytes(sample_report(items=1000), RU))
    assert book["Обращения"].max_row == 1001


def test_the_file_name_names_the_period() -> None:
    assert file_name(sample_report()) == "МЦУ_отчёт_2026-11-01_2026-11-30.xlsx"

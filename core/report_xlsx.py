"""A report as a spreadsheet: «Сводка» (the key figures against the previous period), «Обращения»
(one line per item), «Рейтинг» (the organisations) and «Просрочено» (what is late now).

Headers are bold and frozen, every table has a filter, dates are real dates in the district's zone
(Excel knows no zones), shares are numbers in the % format. The workbook is written in openpyxl's
write-only mode: a quarter of a busy district is tens of thousands of rows, and write-only streams
them without keeping a cell object per value.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from core.cards import status_label
from core.registration import channel_label
from core.report_model import Count, Report
from core.report_text import period_text, scope_text

Gettext = Callable[[str], str]

DATE = "DD.MM.YYYY HH:MM"
PERCENT = "0.0%"
HOURS = "0.0"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    width: float
    format: str | None = None


class Sheet:
    """One write-only sheet: a bold frozen header with a filter, then rows."""

    def __init__(self, book: Workbook, title: str, columns: Sequence[Column], *, preamble: Sequence[Any] = ()) -> None:
        self.ws: WriteOnlyWorksheet = book.create_sheet(title)
        self.columns = columns
        for n, column in enumerate(columns, start=1):
            self.ws.column_dimensions[get_column_letter(n)].width = column.width
        # Freezing and the filter are declared before the rows: write-only writes as it goes.
        self.header_row = len(preamble) + 1
        self.ws.freeze_panes = f"A{self.header_row + 1}"
        self.rows = 0
        for n, line in enumerate(preamble):
            if n == 0 and line:  # the sheet's title
                cell = WriteOnlyCell(self.ws, line[0])
                cell.font = TITLE
                line = [cell, *line[1:]]
            self.ws.append(line)
        header = []
        for column in columns:
            cell = WriteOnlyCell(self.ws, column.title)
            cell.font = BOLD
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            header.append(cell)
        self.ws.append(header)

    def add(self, values: Sequence[Any], formats: Sequence[str | None] | None = None) -> None:
        row = []
        for n, (value, column) in enumerate(zip(values, self.columns, strict=True)):
            wanted = formats[n] if formats is not None else column.format
            if wanted and value is not None:
                cell = WriteOnlyCell(self.ws, value)
                cell.number_format = wanted
                row.append(cell)
            else:
                row.append(value)
        self.ws.append(row)
        self.rows += 1

    def close(self) -> None:
        last = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A{self.header_row}:{last}{self.header_row + max(self.rows, 1)}"


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz).replace(tzinfo=None)


def _delta(current: float | None, previous: float | None) -> float | int | None:
    return None if current is None or previous is None else current - previous


def _yes_no(value: bool | None, _: Gettext) -> str | None:
    return None if value is None else _("да") if value else _("нет")


def _resolved(value: str | None, _: Gettext) -> str | None:
    labels = {"yes": _("да"), "partly": _("частично"), "no": _("нет")}
    return None if value is None else labels.get(value, value)


def _kind(value: str, _: Gettext) -> str:
    return {"appeal": _("обращение (59-ФЗ)"), "message": _("сообщение")}.get(value, value)


def _channel(value: str, _: Gettext) -> str:
    try:
        return channel_label(value, _)
    except ValueError:
        return value


def _status(value: str, _: Gettext) -> str:
    try:
        return status_label(value, _)
    except ValueError:
        return value


def _breakdown(title: str, now: Sequence[Count], _: Gettext) -> Iterable[tuple[str, int, int]]:
    for c in sorted(now, key=lambda c: (-c.count, c.label)):
        yield f"{title}: {c.label}", c.count, c.previous


def _summary(book: Workbook, report: Report, _: Gettext) -> None:
    tz = report.period.tz
    preamble = [
        [_("Отчёт МЦУ за {period}").format(period=period_text(report.period))],
        [_("Охват: {scope}").format(scope=scope_text(report.scope, _))],
        [_("Предыдущий период: {period}").format(period=period_text(report.period.previous()))],
        [_("Сформирован: {moment}").format(moment=report.generated_at.astimezone(tz).strftime("%d.%m.%Y %H:%M"))],
        [],
    ]
    sheet = Sheet(book, _("Сводка"), [Column(_("Показатель"), 52), Column(_("Текущий период"), 18),
                                      Column(_("Предыдущий период"), 18), Column(_("Изменение"), 14)],
                  preamble=preamble)
    now, before = report.current, report.previous

    def count(label: str, a: int, b: int) -> None:
        sheet.add([label, a, b, a - b])

    def share(label: str, a: float | None, b: float | None) -> None:
        sheet.add([label, a, b, _delta(a, b)], [None, PERCENT, PERCENT, PERCENT])

    def hours(label: str, a: float | None, b: float | None) -> None:
        sheet.add([label, a, b, _delta(a, b)], [None, HOURS, HOURS, HOURS])

    count(_("Поступило обращений"), now.received, before.received)
    for title_, counts in ((_("тематика"), now.by_topic), (_("канал"), now.by_channel),
                           (_("поселение"), now.by_settlement)):
        for label, a, b in _breakdown(title_, counts, _):
            count("  " + label, a, b)
    count(_("Дано ответов"), now.answered, before.answered)
    count(_("Из них в срок"), now.answered_on_time, before.answered_on_time)
    share(_("Доля ответов в срок"), now.on_time_share, before.on_time_share)
    count(_("Просрочено на момент отчёта"), now.overdue_now, before.overdue_now)
    hours(_("Первая реакция, медиана, ч"), now.first_reaction.median_hours, before.first_reaction.median_hours)
    hours(_("Первая реакция, 90-й процентиль, ч"), now.first_reaction.p90_hours, before.first_reaction.p90_hours)
    hours(_("Время ответа, медиана, ч"), now.answer_time.median_hours, before.answer_time.median_hours)
    hours(_("Время ответа, 90-й процентиль, ч"), now.answer_time.p90_hours, before.answer_time.p90_hours)
    count(_("Опросов с ответом"), now.surveys_answered, before.surveys_answered)
    share(_("Доля довольных"), now.satisfied_share, before.satisfied_share)
    sheet.add([_("Средняя оценка (1–5)"), now.average_score, before.average_score,
               _delta(now.average_score, before.average_score)], [None, "0.00", "0.00", "0.00"])
    share(_("Доля повторных обращений"), now.repeat_share, before.repeat_share)
    share(_("Доля перенаправленных"), now.redirected_share, before.redirected_share)
    share(_("Доля сменивших тематику"), now.reclassified_share, before.reclassified_share)
    sheet.close()


def _items(book: Workbook, report: Report, _: Gettext) -> None:
    tz = report.period.tz
    sheet = Sheet(book, _("Обращения"), [
        Column(_("Номер"), 14), Column(_("Поступило"), 17, DATE), Column(_("Вид"), 18), Column(_("Канал"), 16),
        Column(_("Статус"), 26), Column(_("Тематика"), 18), Column(_("Тема"), 30), Column(_("Поселение"), 18),
        Column(_("Адрес"), 30), Column(_("Исполнитель"), 32), Column(_("Срок ответа"), 17, DATE),
        Column(_("Ответ дан"), 17, DATE), Column(_("В срок"), 9), Column(_("Решено"), 11), Column(_("Оценка"), 9)])
    for row in report.items:
        sheet.add([row.number, _local(row.received_at, tz), _kind(row.kind, _), _channel(row.channel, _),
                   _status(row.status, _), row.topic, row.theme, row.settlement, row.address, row.organisation,
                   _local(row.due_at, tz), _local(row.answered_at, tz), _yes_no(row.on_time, _),
                   _resolved(row.resolved, _), row.score])
    sheet.close()


def _ratings(book: Workbook, report: Report, _: Gettext) -> None:
    slices = {"all": _("все каналы"), "pos": _("ПОС"), "im": _("«Инцидент менеджмент»")}
    sheet = Sheet(book, _("Рейтинг"), [
        Column(_("Срез"), 22), Column(_("Место"), 8), Column(_("Организация"), 40), Column(_("Обращений"), 11),
        Column(_("Ответов"), 10), Column(_("В срок"), 10, PERCENT), Column(_("Медиана ответа, ч"), 12, HOURS),
        Column(_("Довольны"), 10, PERCENT), Column(_("Средняя оценка"), 10, "0.00"),
        Column(_("Возвращено на доработку"), 14), Column(_("Возобновлено"), 12, PERCENT),
        Column(_("Балл (0–100)"), 11, "0.0")])
    for key in [*slices, *(k for k in report.ratings if k not in slices)]:
        for r in report.ratings.get(key, []):
            sheet.add([slices.get(key, key), r.rank, r.name, r.items, r.answered, r.on_time_share,
                       r.median_answer_hours, r.satisfied_share, r.average_score, r.returns, r.reopened_share,
                       r.score])
    sheet.close()


def _overdue(book: Workbook, report: Report, _: Gettext) -> None:
    tz = report.period.tz
    sheet = Sheet(book, _("Просрочено"), [
        Column(_("Номер"), 14), Column(_("Исполнитель"), 40), Column(_("Тематика"), 18),
        Column(_("Срок ответа"), 17, DATE), Column(_("Просрочено, раб. дн."), 12), Column(_("Статус"), 28)])
    for item in report.overdue:
        sheet.add([item.number, item.organisation, item.topic, _local(item.due_at, tz), item.overdue_days,
                   _status(item.status, _)])
    sheet.close()


def workbook_bytes(report: Report, _: Gettext) -> bytes:
    """The .xlsx file. CPU work for a big period: run it in a thread."""
    book = Workbook(write_only=True)
    _summary(book, report, _)
    _items(book, report, _)
    _ratings(book, report, _)
    _overdue(book, report, _)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def file_name(report: Report) -> str:
    """«МЦУ_отчёт_2026-11-01_2026-11-30.xlsx»."""
    return f"МЦУ_отчёт_{report.period.start.isoformat()}_{report.period.end.isoformat()}.xlsx"


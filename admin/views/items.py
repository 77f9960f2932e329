"""/items: the list of items with filters, full-text search and keyset pages, and its export.

Every staff member may open the list; what it holds is scoped by `core.item_list.visible`. A bad
filter value is a message above the list, not an error page; a recipient asking by URL for another
organisation's items gets 403. The export streams: CSV row batch by row batch, XLSX written by
openpyxl's write-only workbook in a worker thread and sent as it is read back, so neither holds the
database (on SQLite its one connection) while the browser downloads.
"""
from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.auth import current_staff, forbidden, requires
from admin.i18n import page_gettext, page_language
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS
from admin.views.dir_common import render
from core import item_list as il
from core.cards import kind_label, status_label
from core.i18n import N_
from db.models import Channel, ItemKind, Status

CSV_NAME = "items.csv"
XLSX_NAME = "items.xlsx"
# Excel's sheet holds 1,048,576 rows; beyond that a CSV is the way.
XLSX_LIMIT = 1_000_000
CHUNK = 64 * 1024


def _filter(request: web.Request) -> tuple[il.ItemFilter, list[str]]:
    f, errors = il.parse_filter(request.query, page_gettext(request))
    if not il.may_filter_by(current_staff(request), f.org):
        raise forbidden(page_gettext(request)(N_("Обращения другой организации вам недоступны.")))
    return f, errors


def link(f: il.ItemFilter, **extra: str) -> str:
    query = {**f.params(), **{k: v for k, v in extra.items() if v}}
    return "/items" + ("?" + urlencode(query) if query else "")


@requires()
async def items_page(request: web.Request) -> web.StreamResponse:
    staff = current_staff(request)
    settings = request.app[SETTINGS]
    _ = page_gettext(request)
    language = page_language(request)
    now = request.app[CLOCK]()
    f, errors = _filter(request)
    after, before = request.query.get("after"), request.query.get("before")
    for cursor in (after, before):
        if cursor and il.Cursor.decode(cursor) is None:
            errors.append(_("Ссылка на страницу устарела или повреждена: показано начало списка."))
    async with request.app[SESSIONMAKER]() as session, session.begin():
        page = await il.list_page(session, staff, f, now=now, tz=settings.tz, after=after, before=before)
        choices = await il.filter_choices(session, staff)
    rows = [{
        "row": row,
        "status": status_label(row.status, _),
        "kind": kind_label(row.kind, _),
        "channel": il.channel_label(row.channel, _),
        "topic": row.topic_in(language),
        "overdue": row.overdue(now),
        "received": row.received_at.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M"),
        "due": None if row.due_answer_at is None else row.due_answer_at.astimezone(settings.tz).strftime("%d.%m.%Y"),
        "excerpt": row.text if len(row.text) <= 160 else row.text[:159].rstrip() + "…",
    } for row in page.rows]
    context: dict[str, Any] = {
        "f": f,
        "errors": errors,
        "rows": rows,
        "next_link": link(f, after=page.next) if page.next else None,
        "previous_link": link(f, before=page.previous) if page.previous else None,
        "first_link": link(f) if (after or before) else None,
        "export_query": urlencode(f.params()),
        "choices": choices,
        "language": language,
        "statuses": [(s.value, status_label(s, _)) for s in Status],
        "groups": [(code, il.status_group_label(code, _)) for code in il.STATUS_GROUPS],
        "kinds": [(k.value, kind_label(k, _)) for k in ItemKind],
        "channels": [(c.value, il.channel_label(c, _)) for c in Channel],
        "sees_organisations": bool(choices.organisations),
    }
    return await render(request, "items.html", context)


def _csv_safe(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_cell(value: Any) -> Any:
    if hasattr(value, "strftime"):
        return value.strftime("%d.%m.%Y %H:%M")
    return _csv_safe(value)


def _download_headers(name: str, content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'}


def _export_rows(request: web.Request, *, limit: int | None = None) -> AsyncIterator[list[list[Any]]]:
    """The filtered list as the viewer may see it, in batches of cell values (both exports).
    The filter is read (and a forbidden one refused) now, before any byte of the answer."""
    staff = current_staff(request)
    tz = request.app[SETTINGS].tz
    _ = page_gettext(request)
    language = page_language(request)
    now = request.app[CLOCK]()
    f, _errors = _filter(request)

    async def rows() -> AsyncIterator[list[list[Any]]]:
        async for batch in il.export_batches(request.app[SESSIONMAKER], staff, f, now=now, tz=tz, limit=limit):
            yield [il.export_values(row, now, tz, _, language) for row in batch]

    return rows()


@requires()
async def export_csv(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    batches = _export_rows(request)
    response = web.StreamResponse(headers=_download_headers(CSV_NAME, "text/csv; charset=utf-8"))
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # what Excel opens in a Russian locale
    buffer.write("\ufeff")  # and the BOM makes it read UTF-8
    writer.writerow(il.export_header(_))
    async for batch in batches:
        for values in batch:
            writer.writerow([_csv_cell(v) for v in values])
        await response.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        await response.write(buffer.getvalue().encode("utf-8"))
    await response.write_eof()
    return response


def _new_sheet(title: str, header: list[str]) -> Any:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(header)
    return book, sheet


def _append(sheet: Any, rows: list[list[Any]]) -> None:
    for values in rows:
        sheet.append([_csv_safe(v) if isinstance(v, str) else v for v in values])


@requires()
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    batches = _export_rows(request, limit=XLSX_LIMIT)
    book, sheet = await asyncio.to_thread(_new_sheet, _("Обращения"), il.export_header(_))
    async for batch in batches:
        await asyncio.to_thread(_append, sheet, batch)
    with tempfile.TemporaryFile() as spool:
        await asyncio.to_thread(book.save, spool)
        size = spool.tell()
        spool.seek(0)
        response = web.StreamResponse(headers=_download_headers(
            XLSX_NAME, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
        response.content_length = size
        await response.prepare(request)
        while chunk := await asyncio.to_thread(spool.read, CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/items", items_page)
    app.router.add_get("/items/export.csv", export_csv)
    app.router.add_get("/items/export.xlsx", export_xlsx)

"""Real spreadsheet files, made the way the source systems and people make them."""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

POS_HEADER = ["№ обращения", "Дата создания", "Группа тем", "Тема", "Муниципальное образование",
              "Населённый пункт", "Адрес", "Текст обращения", "59-ФЗ"]


def xlsx(rows: Sequence[Sequence[Any]], *, title_rows: Sequence[Sequence[Any]] = (), sheet: str = "Обращения",
         extra_sheets: Sequence[str] = ()) -> bytes:
    book = Workbook()
    for name in extra_sheets:  # an empty sheet before the data, as some exports have
        book.create_sheet(name, 0)
    ws = book["Sheet"]
    ws.title = sheet
    for row in (*title_rows, *rows):
        ws.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue().encode(encoding)

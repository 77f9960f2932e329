"""Spreadsheets as rows of values: xlsx (openpyxl, read-only) and csv in the encodings and
delimiters Russian office software writes.

A file may hold several candidate tables (the sheets of a workbook, the delimiters a csv could
use); the caller picks the one whose header it recognises, because only the caller knows the
column names. Row numbers are those the spreadsheet shows, so an error report points at the row
a person sees when they open the file.
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.i18n import LocalizedError
from core.lifecycle import N_

CSV_ENCODINGS = ("utf-8-sig", "cp1251")
CSV_DELIMITERS = (";", ",", "\t")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls
# The default (128 KiB) is less than one long complaint pasted from a social network.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


class TableError(LocalizedError):
    """The file cannot be read as a table."""


Row = tuple[int, list[Any]]  # (row number as shown, cell values)


@dataclass
class Candidate:
    """One way to read the file: a sheet, or a csv delimiter. `head` is its first rows, for choosing."""

    name: str
    head: list[Row]
    _rows: Any

    def rows(self) -> Iterator[Row]:
        return self._rows()


def candidates(data: bytes, file_name: str) -> list[Candidate]:
    suffix = Path(file_name).suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise TableError(N_("Старый формат .xls не поддерживается: сохраните таблицу как .xlsx или .csv."))
    if data.startswith(_ZIP_MAGIC) or suffix in (".xlsx", ".xlsm"):
        return _xlsx(data)
    if suffix in (".csv", ".txt", ".tsv", ""):
        return _csv(data)
    raise TableError(N_("Нужен файл .xlsx или .csv."))


def is_empty(values: list[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


HEAD_ROWS = 20


def _xlsx(data: bytes) -> list[Candidate]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise TableError(N_("Файл не читается как таблица Excel (.xlsx): он повреждён или это другой формат.")) from None
    found = []
    for sheet in book.worksheets:
        # Exporters often write a wrong <dimension>; without this, read-only mode would cut rows off.
        sheet.reset_dimensions()

        def rows(sheet: Any = sheet) -> Iterator[Row]:
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(values)

        head = []
        for row in rows():
            head.append(row)
            if len(head) >= HEAD_ROWS:
                break
        found.append(Candidate(sheet.title, head, rows))
    if not found:
        raise TableError(N_("В файле нет листов с таблицей."))
    return found


def decode(data: bytes) -> str:
    if b"\x00" in data[:4096]:
        raise TableError(N_("Файл не похож на текстовый .csv (возможно, это UTF-16 или двоичный файл): "
                            "сохраните таблицу как «CSV (разделители — точка с запятой)» или .xlsx."))
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableError(N_("Не удалось определить кодировку файла: сохраните его в UTF-8 или Windows-1251."))


def _csv(data: bytes) -> list[Candidate]:
    text = decode(data)
    found = []
    for delimiter in CSV_DELIMITERS:

        def rows(delimiter: str = delimiter) -> Iterator[Row]:
            reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
            try:
                yield from enumerate(reader, start=1)
            except csv.Error as exc:
                raise TableError(N_("Файл .csv повреждён: {reason}."), reason=str(exc)) from None

        head = []
        for row in rows():
            head.append(row)
            if len(head) >= HEAD_ROWS:
                break
        found.append(Candidate(delimiter, head, rows))
    return found

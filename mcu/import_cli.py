"""`mcu import --channel pos|im FILE [--dry-run]`: load a ПОС or «Инцидент менеджмент» export.

The report goes to stdout, progress of long files to stderr. `run_import` says whether the file
was taken; mcu.cli turns a refused file into exit code 1 and ImportInputError (no such file) into 2.
"""
from __future__ import annotations

import sys
from pathlib import Path

from core.settings import Settings

PROGRESS_EVERY = 500
MAX_FILE_BYTES = 200 * 1024 * 1024


class ImportInputError(ValueError):
    """A wrong path or channel, explained in one line."""


def _reporter(every: int = PROGRESS_EVERY):
    def progress(done: int, total: int) -> None:
        if done % every == 0 or (done == total and total >= every):
            print(f"Обработано строк: {done} из {total}", file=sys.stderr, flush=True)

    return progress


async def run_import(settings: Settings, channel: str, path: str, *, dry_run: bool = False) -> bool:
    from core.clock import system_clock
    from core.imports import format_report, import_file
    from core.lifecycle import lifecycle_context
    from mcu.database import open_database

    file = Path(path)
    if not file.is_file():
        raise ImportInputError(f"{path}: no such file")
    if file.stat().st_size > MAX_FILE_BYTES:
        raise ImportInputError(f"{path}: the file is larger than 200 MB; split it")
    data = file.read_bytes()
    async with open_database(settings) as db, db.sessionmaker() as session:
        ctx = await lifecycle_context(session, settings, system_clock())
        report = await import_file(ctx, data, file.name, channel, dry_run=dry_run, progress=_reporter())
        if report.refused or dry_run:
            await session.rollback()
        else:
            await session.commit()  # one transaction: every row, or none
    print(format_report(report, settings.default_language))
    return not report.refused

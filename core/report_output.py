"""One report, computed and drawn: what `/report`, `mcu report` and the digests send.

The figures are read through `core.reports.report_sessionmaker` (on SQLite its own read-only
connection in a worker thread), the charts and the spreadsheet are drawn in worker threads: the
event loop of the bot and the scheduler stays free while a quarter of a district is counted.
`progress` is told each stage as it starts, so the bot can update its message and the CLI its
stderr line.
"""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.report_charts import render_charts
from core.report_model import Period, Report, Scope
from core.report_text import summary_html, summary_lines
from core.report_xlsx import file_name, workbook_bytes
from core.reports import build_report

Gettext = Callable[[str], str]
Progress = Callable[[str], Awaitable[None]]

# The stages, in order: the figures, the charts, the spreadsheet.
FIGURES, CHARTS, TABLE = "figures", "charts", "table"


@dataclass
class ReportOutput:
    report: Report
    html: str
    lines: list[str]
    charts: list[tuple[str, bytes]] = field(default_factory=list)
    xlsx: bytes | None = None
    xlsx_name: str = ""


async def _nothing(_stage: str) -> None:
    return None


async def produce(maker: async_sessionmaker[AsyncSession], period: Period, scope: Scope, *, now: datetime,
                  _: Gettext, charts: bool = True, xlsx: bool = True,
                  progress: Progress = _nothing) -> ReportOutput:
    """Compute the report (`maker` from `report_sessionmaker`) and render what is asked for."""
    await progress(FIGURES)
    async with maker() as session:
        report = await build_report(session, period, scope, now=now, with_items=xlsx, _=_)
    output = ReportOutput(report, summary_html(report, _), summary_lines(report, _))
    if charts:
        await progress(CHARTS)
        output.charts = await asyncio.to_thread(render_charts, report, _)
    if xlsx:
        await progress(TABLE)
        output.xlsx = await asyncio.to_thread(workbook_bytes, report, _)
        output.xlsx_name = file_name(report)
    return output

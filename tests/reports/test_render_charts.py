"""The three charts: valid PNGs of a phone-readable size, drawn for a busy month, a quarter, an
empty period, and from several threads at once."""
from __future__ import annotations

import asyncio
import struct
from dataclasses import replace
from datetime import date

from core.i18n import gettext_for
from core.report_charts import render_charts
from core.report_model import Period
from tests.reports.samples import MSK, empty_report, sample_report

RU = gettext_for("ru")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_three_charts_as_png_readable_on_a_phone() -> None:
    charts = render_charts(sample_report(), RU)
    assert [name for name, _data in charts] == ["items_per_day.png", "on_time.png", "satisfaction.png"]
    for _name, data in charts:
        width, height = png_size(data)
        assert 1000 <= width <= 1600 and 600 <= height <= 1200, (width, height)
        assert 10_000 < len(data) < 1_000_000  # drawn, and small enough for an album
        assert data.endswith(b"IEND\xaeB`\x82")


def test_an_empty_period_gives_charts_that_say_so() -> None:
    full = render_charts(sample_report(), RU)
    empty = render_charts(empty_report(), RU)
    assert len(empty) == 3
    for (_name, data), (_n, drawn) in zip(empty, full, strict=True):
        png_size(data)
        assert len(data) < len(drawn)  # a title and a sentence, no bars


def test_a_quarter_is_drawn_by_weeks_and_one_organisation_is_enough() -> None:
    quarter = Period(date(2026, 10, 1), date(2026, 12, 31), MSK)
    report = sample_report(period=quarter)
    report = replace(report, ratings={"all": report.ratings["all"][:1]})
    for _name, data in render_charts(report, RU):
        png_size(data)


async def test_charts_are_drawn_in_threads_side_by_side() -> None:
    # The bot and the digests draw with asyncio.to_thread: no pyplot state to trip over.
    reports = [sample_report(), empty_report(), sample_report()]
    results = await asyncio.gather(*(asyncio.to_thread(render_charts, r, RU) for r in reports))
    assert [len(r) for r in results] == [3, 3, 3]
    assert results[0][0][1][:8] == PNG_SIGNATURE

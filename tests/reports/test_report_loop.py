"""A report on generated data (bench/datagen.py) leaves the event loop free: on SQLite it runs in
aiosqlite's worker thread (`report_sessionmaker`), while the app's inline engine would hold the
loop for the whole report."""
from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import OperationalError

from bench.datagen import generate
from core.report_model import Scope
from core.reports import (
    build_report,
    dispose_report_engines,
    period_for,
    report_sessionmaker,
)
from db.models import Item, Survey
from tests.reports.hand import MSK

NOW = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)


@pytest.fixture
async def generated(sessionmaker, settings):
    await generate(settings.effective_database_url, 1500, now=NOW, months=3)
    yield
    await dispose_report_engines()


async def test_datagen_fills_a_realistic_district(sessionmaker, generated) -> None:
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Item)) == 1500
        channels = set((await session.scalars(select(Item.channel).distinct())).all())
        assert {"bot", "pos", "im"} <= channels
        assert await session.scalar(select(func.count()).select_from(Survey).where(Survey.resolved == "yes")) > 0
        assert await session.scalar(select(func.count()).select_from(Item).where(Item.repeat_of_id.is_not(None))) > 0
        # Numbering goes on after the generated items.
        last = await session.scalar(select(func.max(Item.number)).where(Item.number.like("2026-%")))
        counter = await session.scalar(text("SELECT value FROM counters WHERE name = 'item-number-2026'"))
        assert last == f"2026-{counter:06d}"


async def test_the_loop_keeps_ticking_during_a_report(sessionmaker, settings, generated) -> None:
    period = period_for("last_month", NOW.astimezone(MSK).date(), MSK)
    ticks = 0
    statements = Counter()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    def counting(name: str):
        def count(*_args) -> None:
            statements[name] += 1
        return count

    off_loop_maker = report_sessionmaker(settings)
    listeners = [(off_loop_maker.kw["bind"].sync_engine, counting("off")),
                 (sessionmaker.kw["bind"].sync_engine, counting("app"))]
    for engine, listener in listeners:
        event.listen(engine, "before_cursor_execute", listener)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    try:
        before = ticks
        async with off_loop_maker() as session:
            report = await build_report(session, period, Scope(), now=NOW, with_items=True)
        off_loop = ticks - before
        before = ticks
        async with sessionmaker() as session:  # the app's own engine
            inline = await build_report(session, period, Scope(), now=NOW, with_items=True)
        on_loop = ticks - before
    finally:
        task.cancel()
        for engine, listener in listeners:
            event.remove(engine, "before_cursor_execute", listener)
    assert report.current.received > 100 and inline.current == report.current
    assert statements["off"] > 20
    # Off the loop, the ticker gets turns while each statement runs.
    assert off_loop >= statements["off"]
    if sessionmaker.kw["bind"].dialect.name == "sqlite":
        # Inline, it waits for the whole report: a turn or two at the session's edges, none per statement.
        assert on_loop < statements["app"] / 4
async def test_the_report_session_is_read_only_on_sqlite(sessionmaker, settings) -> None:
    maker = report_sessionmaker(sessionmaker)
    if sessionmaker.kw["bind"].dialect.name != "sqlite":
        assert maker is sessionmaker  # asyncpg never blocks the loop: the app's sessions serve
        return
    assert maker is report_sessionmaker(settings)  # one engine per database file
    async with maker() as session:
        with pytest.raises(OperationalError, match="readonly"):
            await session.execute(text("DELETE FROM items"))
    await dispose_report_engines()

"""The month report over 1,000,000 items, against the same aggregates as hand-written SQL.

Run:  .venv/bin/python bench/report.py [--items 1000000] [--runs 5] [--pg postgresql+asyncpg://…]

* Generates `--items` items with bench/datagen.py into `bench/.data/report.db` (reused when the
  file holds exactly that many; on PostgreSQL the database must be empty or hold exactly that many).
* Times `core.reports.build_report` for the last full calendar month through
  `report_sessionmaker` (the way the bot and the admin run it: on SQLite a read-only connection in
  aiosqlite's worker thread): the first run of the process ("cold": SQLite's page cache empty,
  the OS cache as it is) and the median of the next `--runs` ("warm").
* Runs the same queries written by hand — the sqlite3 module (asyncpg on PostgreSQL), SQL text,
  rows fetched, durations sorted for the medians — on the same file, and prints both and the ratio.
* Times the report for a day, a week, a month a year ago and a quarter, with the number of items
  each covers: the cost follows the period's items, not the table.
Targets: ≤ 2 s on SQLite, ≤ 3× the hand SQL.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select

from bench.datagen import generate
from core.problems import street_of
from core.report_model import Period, Scope
from core.report_sql import offset_segments
from core.reports import (
    build_report,
    dispose_report_engines,
    period_for,
    report_sessionmaker,
)
from core.settings import Settings
from db.engine import make_engine, make_sessionmaker
from db.models import Item

TZ = ZoneInfo("Europe/Moscow")
DATA = ROOT / "bench" / ".data"
AWAITING = "('registered','assigned','in_work','interim_answer','returned','redirected','reopened')"


def percentiles(dialect: str, value: str, where: str) -> str:
    """What `core.report_sql.durations_of` asks: PostgreSQL computes, SQLite hands the column over."""
    if dialect == "postgresql":
        clipped = f"greatest({value}, 0.0)"
        return (f"SELECT count({clipped}), percentile_cont(0.5) WITHIN GROUP (ORDER BY {clipped}), "
                f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {clipped}) FROM items WHERE {where} AND "
                f"{value} IS NOT NULL")
    return f"SELECT {value} FROM items WHERE {where}"


def hand_queries(dialect: str, period: Period) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, SQL, parameters) of everything build_report asks, written by hand."""
    if dialect == "postgresql":
        def day(column: str) -> str:
            return f"date(timezone('{TZ.key}', {column}))"

        def hours(later: str, earlier: str) -> str:
            return f"extract(epoch from {later} - {earlier}) / 3600.0"
    else:
        minutes = offset_segments(TZ, period.previous().start_utc, period.end_utc)[0][1]

        def day(column: str) -> str:
            return f"date({column}, '{minutes:+d} minutes')"

        def hours(later: str, earlier: str) -> str:
            return f"(julianday({later}) - julianday({earlier})) * 24.0"

    previous = period.previous()
    queries: list[tuple[str, str, dict[str, Any]]] = [
        ("topics", "SELECT id, code, name_ru FROM topics ORDER BY sort, id", {}),
        ("themes", "SELECT id, name FROM themes", {}),
        ("settlements", "SELECT id, name FROM settlements", {}),
        ("organisations", "SELECT id, name FROM organisations", {}),
        ("calendar", "SELECT day, is_working FROM calendar_overrides", {}),
        ("overdue", (f"SELECT id, number, organisation_id, topic_id, due_answer_at, status, channel FROM items "
                    f"WHERE status IN {AWAITING} AND due_answer_at < :now AND (paused_since IS NULL OR "
                    f"paused_since > due_answer_at) ORDER BY due_answer_at, id"), {}),
    ]
    for name, p in (("", period), ("prev ", previous)):
        bounds = {"start": p.start_utc, "end": p.end_utc}
        queries += [
            (name + "intake", ("SELECT topic_id, channel, settlement_id, organisation_id, count(*), count(repeat_of_id), "
             "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM item_events e WHERE e.item_id = items.id AND "
             "e.action = 'route' AND e.old_value IS NOT NULL)), "
             "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM item_events e WHERE e.item_id = items.id AND "
             "e.action = 'reclassified')) FROM items WHERE received_at >= :start AND received_at < :end AND "
             "registered_at IS NOT NULL GROUP BY topic_id, channel, settlement_id, organisation_id"), bounds),
            (name + "first reactions", percentiles(dialect, hours("first_reaction_at", "received_at"),
             "received_at >= :start AND received_at < :end AND registered_at IS NOT NULL AND "
             "first_reaction_at IS NOT NULL"), bounds),
        ]
        if name:  # the previous period: counts and percentiles, no rows
            queries += [
                (name + "answers", ("SELECT count(*), sum(CASE WHEN due_answer_at IS NULL OR answered_at <= "
                 "due_answer_at THEN 1 ELSE 0 END) FROM items WHERE answered_at >= :start AND answered_at < :end"),
                 bounds),
                (name + "answer time", percentiles(dialect, hours("answered_at", "received_at"),
                 "answered_at >= :start AND answered_at < :end"), bounds),
            ]
        else:  # this period: every answer, for the organisations' ratings
            queries.append(
                (name + "answers", ("SELECT organisation_id, channel, CASE WHEN due_answer_at IS NULL OR "
                 f"answered_at <= due_answer_at THEN 1 ELSE 0 END, {hours('answered_at', 'received_at')}, "
                 f"{hours('due_answer_at', 'received_at')}, CASE WHEN received_at < :start THEN 1 ELSE 0 END "
                 "FROM items WHERE answered_at >= :start AND answered_at < :end"), bounds))
        queries += [
            (name + "surveys", (f"SELECT {day('s.answered_at')} AS day, s.organisation_id, i.channel, s.resolved, "
             "count(*), coalesce(sum(s.score), 0), count(s.score) FROM surveys s JOIN items i ON i.id = s.item_id "
             "WHERE s.answered_at >= :start AND s.answered_at < :end AND s.resolved IS NOT NULL "
             "GROUP BY day, s.organisation_id, i.channel, s.resolved"), bounds),
        ]
    bounds = {"start": period.start_utc, "end": period.end_utc}
    queries += [
        ("overdue at start", (f"SELECT count(*) FROM items WHERE status IN {AWAITING} AND due_answer_at < :start "
         "AND received_at < :start"), bounds),
        ("answered late after start", ("SELECT count(*) FROM items WHERE answered_at >= :start AND "
         "due_answer_at < :start"), bounds),
        ("daily", (f"SELECT {day('received_at')} AS day, topic_id, count(*) FROM items WHERE received_at >= :start "
         "AND received_at < :end AND registered_at IS NOT NULL GROUP BY day, topic_id"), bounds),
        ("returns", ("SELECT i.organisation_id, i.channel, count(*) FROM item_events e JOIN items i ON i.id = "
         "e.item_id WHERE e.action = 'review' AND e.new_value = 'returned' AND e.at >= :start AND e.at < :end AND "
         "i.organisation_id IS NOT NULL GROUP BY i.organisation_id, i.channel"), bounds),
        ("reopens", ("SELECT i.organisation_id, i.channel, count(DISTINCT e.item_id) FROM item_events e JOIN items i "
         "ON i.id = e.item_id WHERE e.action = 'status' AND e.new_value = 'reopened' AND e.at >= :start AND "
         "e.at < :end AND i.organisation_id IS NOT NULL GROUP BY i.organisation_id, i.channel"), bounds),
        ("problems", ("SELECT id, theme_id, topic_id, settlement_id, address FROM items WHERE received_at >= :start "
         "AND received_at < :end AND registered_at IS NOT NULL"), bounds),
        ("prev problems", ("SELECT theme_id, topic_id, settlement_id, address, count(*) FROM items WHERE "
         "received_at >= :start AND received_at < :end AND registered_at IS NOT NULL "
         "GROUP BY theme_id, topic_id, settlement_id, address"),
         {"start": previous.start_utc, "end": previous.end_utc}),
    ]
    return queries


def sqlite_value(value: Any) -> Any:
    """How UTCDateTime keeps a moment in SQLite."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def post_process(name: str, rows: list[Any]) -> None:
    """The Python the report does after these queries: percentiles need sorted hours; problems the street."""
    if name == "answers":
        sorted(r[3] for r in rows)
    elif name.endswith(("first reactions", "answer time")) and rows and len(rows[0]) == 1:
        sorted(r[0] for r in rows)
    elif name == "problems":
        for row in rows:
            street_of(row[4])


def run_sqlite(path: Path, queries: list[tuple[str, str, dict[str, Any]]], now: datetime,
               plans: bool = False) -> dict[str, float]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    timings: dict[str, float] = {}
    try:
        for name, sql, params in queries:
            values = {k: sqlite_value(v) for k, v in {**params, "now": now}.items() if f":{k}" in sql}
            started = time.perf_counter()
            rows = connection.execute(sql, values).fetchall()
            post_process(name, rows)
            timings[name] = time.perf_counter() - started
            if plans:
                plan = connection.execute("EXPLAIN QUERY PLAN " + sql, values).fetchall()
                print(f"    {name}: " + " / ".join(str(r[-1]) for r in plan))
    finally:
        connection.close()
    return timings


async def run_pg(url: str, queries: list[tuple[str, str, dict[str, Any]]], now: datetime) -> dict[str, float]:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    connection = await asyncpg.connect(user=u.username, password=u.password, host=u.host, port=u.port or 5432,
                                       database=u.database)
    timings: dict[str, float] = {}
    try:
        for name, sql, params in queries:
            values = {**params, "now": now}
            order: list[str] = []

            def number(match: re.Match[str], order: list[str] = order) -> str:
                if match.group(1) not in order:
                    order.append(match.group(1))
                return f"${order.index(match.group(1)) + 1}"

            text = re.sub(r"(?<!:):([a-z]+)", number, sql)
            started = time.perf_counter()
            rows = await connection.fetch(text, *(values[k] for k in order))
            post_process(name, rows)
            timings[name] = time.perf_counter() - started
    finally:
        await connection.close()
    return timings


async def ensure_data(url: str, items: int, now: datetime) -> int:
    engine = make_engine(url)
    try:
        async with make_sessionmaker(engine)() as session:
            try:
                have = int(await session.scalar(select(func.count()).select_from(Item)) or 0)
            except Exception:  # noqa: BLE001 - not migrated yet
                have = 0
    finally:
        await engine.dispose()
    if have == items:
        print(f"reusing {items:,} items")
        return have
    if have:
        raise SystemExit(f"the database holds {have:,} items, not {items:,}: empty it or pick another")
    print(f"generating {items:,} items …")
    started = time.perf_counter()
    await generate(url, items, now=now)
    print(f"generated in {time.perf_counter() - started:.0f} s")
    return items


async def timed(action: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await action()
    return time.perf_counter() - started, result


async def timed_cpu(action: Callable[[], Awaitable[Any]]) -> tuple[float, float, Any]:
    """Wall time and CPU time of this process (the event loop and the SQLite worker thread): on a
    shared machine the wall time also counts waiting for a core."""
    started, cpu = time.perf_counter(), time.process_time()
    result = await action()
    return time.perf_counter() - started, time.process_time() - cpu, result


async def bench(url: str, runs: int, now: datetime, hand: Callable[[list[Any]], Awaitable[dict[str, float]]],
                plans: Callable[[list[Any]], Any] | None) -> None:
    settings = Settings(_env_file=None, database_url=url)  # type: ignore[call-arg]
    maker = report_sessionmaker(settings)
    today = now.astimezone(TZ).date()
    month = period_for("last_month", today, TZ)

    async def report(period: Period) -> Any:
        async with maker() as session:
            return await build_report(session, period, Scope(), now=now)

    cold, cold_cpu, result = await timed_cpu(lambda: report(month))
    warm_runs = [await timed_cpu(lambda: report(month)) for _ in range(runs)]
    warm, warm_cpu = [r[0] for r in warm_runs], [r[1] for r in warm_runs]
    queries = hand_queries("postgresql" if url.startswith("postgresql") else "sqlite", month)
    hand_cold = sum((await hand(queries)).values())
    hand_runs, hand_cpu = [], []
    for _ in range(runs):
        cpu = time.process_time()
        hand_runs.append(await hand(queries))
        hand_cpu.append(time.process_time() - cpu)
    hand_warm = statistics.median(sum(t.values()) for t in hand_runs)
    f = result.current
    print(f"month {month.start:%d.%m.%Y}–{month.end:%d.%m.%Y}: {f.received:,} received, {f.answered:,} answered, "
          f"{f.surveys_answered:,} surveys, {f.overdue_now:,} overdue now, {len(result.problems)} problems, "
          f"{len(result.ratings['all'])} organisations rated")
    print(f"  build_report: cold {cold:.3f} s, warm median {statistics.median(warm):.3f} s "
          f"(min {min(warm):.3f}, max {max(warm):.3f})  — target ≤ 2 s; "
          f"CPU cold {cold_cpu:.3f} s, warm {statistics.median(warm_cpu):.3f} s")
    print(f"  hand SQL:     cold {hand_cold:.3f} s, warm median {hand_warm:.3f} s; "
          f"CPU warm {statistics.median(hand_cpu):.3f} s (client side only on PostgreSQL)")
    print(f"  ratio (warm): {statistics.median(warm) / hand_warm:.2f}×  — target ≤ 3×")
    slowest = sorted(((statistics.median(t[name] for t in hand_runs), name) for name in hand_runs[0]), reverse=True)
    print("  slowest hand queries: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for seconds, name in slowest[:6]))
    if plans is not None:
        print("  query plans:")
        plans(queries)

    async def with_rows() -> Any:
        async with maker() as session:
            return await build_report(session, month, Scope(), now=now, with_items=True)

    seconds = statistics.median([(await timed(with_rows))[0] for _ in range(3)])
    print(f"  with the spreadsheet's rows (with_items): {seconds:.3f} s")
    print("the cost follows the period's items:")
    for label, period in (
            ("today", period_for("today", today, TZ)),
            ("last 7 days", period_for("week", today, TZ)),
            ("last month", month),
            ("a month a year ago", Period(date(month.start.year - 1, month.start.month, 1),
                                          date(month.start.year - 1, month.start.month, 1) + timedelta(
                                              days=month.days - 1), TZ)),
            ("this quarter", period_for("quarter", today, TZ)),
            ("last 12 months", Period(today - timedelta(days=364), today, TZ))):
        seconds = statistics.median([(await timed(lambda p=period: report(p)))[0] for _ in range(3)])
        r = await report(period)
        print(f"  {label:<20} {period.days:>4} days {r.current.received:>9,} items  {seconds:.3f} s")
    await dispose_report_engines()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--path", type=Path, default=DATA / "report.db")
    parser.add_argument("--pg", help="also on PostgreSQL: postgresql+asyncpg://user@host/db (an empty database)")
    parser.add_argument("--plans", action="store_true", help="print SQLite's query plans of the hand queries")
    args = parser.parse_args()
    now = datetime.now(UTC)

    args.path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite+aiosqlite:///{args.path}"
    print(f"SQLite {args.path}")
    await ensure_data(url, args.items, now)

    async def sqlite_hand(queries: list[Any]) -> dict[str, float]:
        return await asyncio.to_thread(run_sqlite, args.path, queries, now)

    await bench(url, args.runs, now, sqlite_hand,
                (lambda q: run_sqlite(args.path, q, now, plans=True)) if args.plans else None)
    if args.pg:
        print(f"PostgreSQL {args.pg.split('@')[-1]}")
        await ensure_data(args.pg, args.items, now)

        async def pg_hand(queries: list[Any]) -> dict[str, float]:
            return await run_pg(args.pg, queries, now)

        await bench(args.pg, args.runs, now, pg_hand, None)


if __name__ == "__main__":
    asyncio.run(main())

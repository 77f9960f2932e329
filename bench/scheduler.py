"""The reminder tick over a big database: the empty tick, the process memory, a tick with 10,000 due.

Run:  .venv/bin/python bench/scheduler.py [--items 1000000] [--due 10000] [--keep PATH]

Builds a SQLite file with `--items` open items (all in work, with an organisation and a deadline)
and one pending reminder for each (their next step, due over the coming weeks) plus a second one
for every fifth item, written with Core executemany in big batches. Then measures:

* a tick that finds nothing due (targets: ≤ 50 ms) — the claim must be an index probe;
* the resident memory of this process (psutil; target ≤ 300 MB);
* a tick with `--due` reminders due — a mix of «half», «day_before» and «overdue_daily», the
  overdue ones on overdue items, so escalation and the next morning's row are written too —
  queued into the outbox (target ≤ 5 s).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from sqlalchemy import func, insert, select, text, update  # noqa: E402

from core.clock import ManualClock  # noqa: E402
from core.seed import seed_reference  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.staff import add_staff  # noqa: E402
from db.engine import make_engine, make_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Item, Organisation, OutboxMessage, Reminder, Role, Status  # noqa: E402
from scheduler.ticks import ReminderTicker  # noqa: E402

NOW = datetime(2026, 6, 2, 8, 0, tzinfo=UTC)  # Tuesday 11:00 in Moscow
BATCH = 50_000
ORGANISATIONS = 10


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


async def generate(maker, items: int) -> None:
    async with maker() as session, session.begin():
        orgs = [Organisation(name=f"Организация {n}") for n in range(ORGANISATIONS)]
        session.add_all(orgs)
        await session.flush()
        for n, org in enumerate(orgs):
            for k in range(2):
                official, _ = await add_staff(session, telegram_id=10_000 + n * 10 + k, roles=[Role.recipient],
                                              name=f"Исполнитель {n}.{k}")
                official.organisation_id = org.id
        await add_staff(session, telegram_id=900, roles=[Role.curator], name="Куратор")
        await add_staff(session, telegram_id=901, roles=[Role.head], name="Глава")
        org_ids = [o.id for o in orgs]
    registered = NOW - timedelta(days=5)
    for start in range(0, items, BATCH):
        rows = [{"number": f"B-{n:07d}", "kind": "appeal", "channel": "bot", "status": Status.in_work.value,
                 "priority": 0, "text": "", "organisation_id": org_ids[n % ORGANISATIONS],
                 "received_at": registered, "registered_at": registered, "created_at": registered,
                 "updated_at": registered, "extended": False,
                 "due_answer_at": NOW + timedelta(days=1 + n % 30, minutes=n % 600)}
                for n in range(start, min(start + BATCH, items))]
        async with maker() as session, session.begin():
            await session.execute(insert(Item), rows)
    # Item ids are 1..items in insertion order (a fresh table).
    for start in range(0, items, BATCH):
        rows = []
        for n in range(start, min(start + BATCH, items)):
            due = NOW + timedelta(hours=1 + n % 700, minutes=n % 60)
            rows.append({"item_id": n + 1, "kind": "half", "due_at": due, "status": "pending", "created_at": NOW})
            if n % 5 == 0:
                rows.append({"item_id": n + 1, "kind": "overdue_daily", "due_at": NOW + timedelta(days=1 + n % 30),
                             "status": "pending", "created_at": NOW})
        async with maker() as session, session.begin():
            await session.execute(insert(Reminder), rows)


async def make_due(maker, due: int) -> None:
    """`due` reminders fall due: 60 % «half», 10 % «day_before», 30 % «overdue_daily» on late items."""
    async with maker() as session, session.begin():
        ids = (await session.scalars(select(Reminder.id).where(Reminder.kind == "half")
                                     .order_by(Reminder.id).limit(due))).all()
        late = ids[: due * 3 // 10]
        warn = ids[due * 3 // 10: due * 4 // 10]
        for chunk in range(0, len(ids), 5000):
            part = ids[chunk:chunk + 5000]
            await session.execute(update(Reminder).where(Reminder.id.in_(part))
                                  .values(due_at=NOW - timedelta(minutes=5)))
        for chunk in range(0, len(late), 5000):
            await session.execute(update(Reminder).where(Reminder.id.in_(late[chunk:chunk + 5000]))
                                  .values(kind="overdue_daily"))
            items = select(Reminder.item_id).where(Reminder.id.in_(late[chunk:chunk + 5000])).scalar_subquery()
            await session.execute(update(Item).where(Item.id.in_(items)).values(due_answer_at=NOW - timedelta(days=1)))
        await session.execute(update(Reminder).where(Reminder.id.in_(warn)).values(kind="day_before"))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="build the database here and keep it")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "scheduler.db"
        url = f"sqlite+aiosqlite:///{path}"
        settings = Settings(_env_file=None, database_url=url, data_dir=Path(tmp))  # type: ignore[call-arg]
        await upgrade(url)
        engine = make_engine(url)
        maker = make_sessionmaker(engine)
        async with maker() as session, session.begin():
            await seed_reference(session)
        started = time.perf_counter()
        await generate(maker, args.items)
        async with maker() as session:
            reminders = await session.scalar(select(func.count()).select_from(Reminder))
            await session.execute(text("ANALYZE"))
            await session.commit()
        print(f"generated {args.items} open items and {reminders} pending reminders "
              f"in {time.perf_counter() - started:.0f} s")

        clock = ManualClock(NOW)
        ticker = ReminderTicker(maker, settings, clock)
        await ticker.tick()  # plans the first digest, loads the calendar
        empty = []
        for _ in range(30):
            clock.advance(seconds=30)
            began = time.perf_counter()
            stats = await ticker.tick()
            empty.append((time.perf_counter() - began) * 1000)
            assert stats.claimed == 0
        async with maker() as session:
            plan = (await session.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM reminders WHERE status = 'pending' AND due_at <= :now "
                "ORDER BY due_at LIMIT 500"), {"now": clock().isoformat()})).all()
        print(f"empty tick: median {statistics.median(empty):.1f} ms, max {max(empty):.1f} ms (target ≤ 50 ms); "
              f"claim plan: {' / '.join(row[-1] for row in plan)}")
        print(f"resident memory: {rss_mb():.0f} MB (target ≤ 300 MB)")

        await make_due(maker, args.due)
        clock.advance(seconds=30)
        began = time.perf_counter()
        stats = await ticker.tick()
        elapsed = time.perf_counter() - began
        async with maker() as session:
            queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
        print(f"tick with {args.due} due: claimed {stats.claimed}, done {stats.done}, cancelled {stats.cancelled}, "
              f"{queued} outbox rows in {elapsed:.2f} s (target ≤ 5 s)")
        print(f"resident memory after: {rss_mb():.0f} MB")
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())

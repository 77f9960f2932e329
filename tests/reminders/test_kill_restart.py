"""A tick killed with SIGKILL mid-batch, twice, then restarted: every due reminder is queued once.

Runs on SQLite, and on PostgreSQL when MCU_TEST_DATABASE_URL is set (the `database_url` fixture).
"""
from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from core.staff import add_staff
from db.models import Item, Organisation, OutboxMessage, Reminder, Role, Status
from tests.reminders.world import CURATOR, HEAD, OFFICIAL, msk

ROOT = Path(__file__).resolve().parents[2]
NOW = msk(2026, 6, 2, 12, 0)  # Tuesday noon: tomorrow's digest is not due
HALF, WARN, LATE = 300, 100, 100  # items with a «half», a «day_before», an «overdue_daily» row due


async def run_worker(url: str, *options: str, now=NOW) -> list[str]:
    """Run the tick process; with a stop option, kill it (SIGKILL) once it says it paused."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.reminders.tick_worker", url, now.isoformat(), "--batch", "50", *options,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    lines: list[str] = []
    try:
        while True:
            line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode().strip()
            if not line:
                break
            lines.append(line)
            if line == "paused":
                process.kill()
                break
        await asyncio.wait_for(process.wait(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if not options:
        assert process.returncode == 0, (await process.stderr.read()).decode()[-2000:] if process.stderr else ""
    else:
        assert process.returncode == -9 and lines[-1] == "paused", lines
    return lines


async def test_killed_mid_tick_and_restarted_queues_every_reminder_exactly_once(sessionmaker, database_url):
    async with sessionmaker() as session, session.begin():
        org = Organisation(name="Отдел ЖКХ")
        session.add(org)
        await session.flush()
        official, _ = await add_staff(session, telegram_id=OFFICIAL, roles=[Role.recipient], name="Иванов")
        official.organisation_id = org.id
        await add_staff(session, telegram_id=CURATOR, roles=[Role.curator], name="Куратор")
        await add_staff(session, telegram_id=HEAD, roles=[Role.head], name="Глава")
        total = HALF + WARN + LATE
        await session.execute(insert(Item), [
            {"number": f"2026-{n:06d}", "kind": "appeal", "channel": "bot", "status": Status.in_work.value,
             "organisation_id": org.id, "text": "", "received_at": NOW - timedelta(days=20),
             "registered_at": NOW - timedelta(days=20),
             "due_answer_at": NOW + timedelta(days=5) if n <= HALF + WARN else NOW - timedelta(days=1)}
            for n in range(1, total + 1)])
        ids = (await session.scalars(select(Item.id).order_by(Item.id))).all()
        kinds = ["half"] * HALF + ["day_before"] * WARN + ["overdue_daily"] * LATE
        await session.execute(insert(Reminder), [
            {"item_id": item_id, "kind": kind, "due_at": NOW - timedelta(minutes=n % 90 + 1), "status": "pending"}
            for n, (item_id, kind) in enumerate(zip(ids, kinds, strict=True))])
    async with sessionmaker() as session:
        due = {r.id: (r.kind, r.item_id) for r in (await session.scalars(select(Reminder))).all()}

    first = await run_worker(database_url, "--stop-in-write", "3")  # dies with batch 3 written, not committed
    assert first[:3] == ["batch 1 50", "batch 2 50", "batch 3 50"]
    await run_worker(database_url, "--stop-after-claim", "2")  # batch 3's claim is still fresh: skipped
    async with sessionmaker() as session:
        stuck = await session.scalar(select(func.count()).select_from(Reminder).where(Reminder.status == "claimed"))
    assert stuck == 100  # batch 3 of the first run and batch 2 of the second wait for the restart
    # Restarted three minutes later: the stale claims are taken over.
    last = await run_worker(database_url, now=NOW + timedelta(minutes=3))
    stats = json.loads(last[-1])
    assert stats["lost"] == 0 and stats["failed"] == 0

    async with sessionmaker() as session:
        statuses = dict((await session.execute(
            select(Reminder.status, func.count()).where(Reminder.id.in_(list(due))).group_by(Reminder.status))).all())
        keys = [k for (k,) in (await session.execute(select(OutboxMessage.dedupe_key))).all()]
        next_rows = await session.scalar(select(func.count()).select_from(Reminder).where(
            Reminder.kind == "overdue_daily", Reminder.status == "pending"))
    assert statuses == {"done": len(due)}
    expected = set()
    for reminder_id, (kind, item_id) in due.items():
        if kind == "overdue_daily":
            expected |= {f"ovd:{item_id}:2026-06-02:c{OFFICIAL}", f"esc:{item_id}:2026-06-02:c{HEAD}",
                         f"esc:{item_id}:2026-06-02:c{CURATOR}"}
        else:
            expected.add(f"rem:{reminder_id}:c{OFFICIAL}")
            if kind == "day_before":
                expected.add(f"rem:{reminder_id}:c{CURATOR}")
    assert len(keys) == len(expected) == HALF + 2 * WARN + 3 * LATE  # nothing twice …
    assert set(keys) == expected  # … nothing lost
    assert next_rows == LATE  # each overdue item has its next morning planned, once

"""Wires the ticks into an APScheduler instance."""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, system_clock
from core.settings import Settings
from scheduler.ticks import ReminderTicker, prune_processed_updates

# APScheduler 3 drops a run that is more than a second late by default; our ticks read due
# rows from the database, so a late run is always right to make, and several missed runs
# are one run (coalesce).
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}
REMINDER_INTERVAL_SECONDS = 30


def make_scheduler(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                   clock: Clock = system_clock) -> AsyncIOScheduler:
    # Two lines per run of a 30-second tick would be most of the log; failures are still logged.
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    scheduler.add_job(prune_processed_updates, "interval", hours=1, args=(sessionmaker, clock),
                      id="prune_processed_updates")
    ticker = ReminderTicker(sessionmaker, settings, clock)
    # The first run right at start: reminders that fell due while the process was down go out now.
    scheduler.add_job(ticker.run, "interval", seconds=REMINDER_INTERVAL_SECONDS, id="reminders",
                      next_run_time=datetime.now(UTC))
    return scheduler

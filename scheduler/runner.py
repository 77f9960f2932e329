"""Wires the ticks into an APScheduler instance."""
from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, system_clock
from scheduler.ticks import prune_processed_updates

# APScheduler 3 drops a run that is more than a second late by default; our ticks read due
# rows from the database, so a late run is always right to make, and several missed runs
# are one run (coalesce).
JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


def make_scheduler(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock = system_clock) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(job_defaults=JOB_DEFAULTS, timezone="UTC")
    scheduler.add_job(prune_processed_updates, "interval", hours=1, args=(sessionmaker, clock),
                      id="prune_processed_updates")
    return scheduler

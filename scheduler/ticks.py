"""The ticks. Each is short, idempotent, and safe to run late or twice."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import digest, reminders, report_digest
from core.clock import Clock, system_clock
from core.deadlines import DeadlineContextCache
from core.lifecycle import lifecycle_context
from core.options import load_options
from core.reports import report_sessionmaker
from core.settings import Settings
from db.models import ProcessedUpdate

log = logging.getLogger(__name__)

# Telegram keeps an unconfirmed update for 24 hours; a week is a wide margin.
PROCESSED_UPDATES_KEEP = timedelta(days=7)


async def prune_processed_updates(sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> int:
    async with sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(ProcessedUpdate).where(ProcessedUpdate.at < clock() - PROCESSED_UPDATES_KEEP)
        )
        return int(result.rowcount or 0)


@dataclass
class TickStats:
    claimed: int = 0
    done: int = 0
    cancelled: int = 0
    lost: int = 0
    failed: int = 0
    reports: int = 0  # weekly and monthly report digests sent (core/report_digest.py)


class ReminderTicker:
    """Reminders, escalations, the digest and surveys: claim due rows, act, mark (core/reminders.py).

    Rows are taken in batches, each batch its own short transaction, so the bot's updates (one
    SQLite connection per process) slip in between and a crash loses at most a batch's claim —
    which the next tick takes over after `core.reminders.STALE_CLAIM`.

    Then the weekly and monthly reports (core/report_digest.py): their rows are claimed apart,
    as they are built outside any transaction, off the event loop.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
                 clock: Clock = system_clock, *, batch: int = 500,
                 deadline_cache: DeadlineContextCache | None = None) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.clock = clock
        self.batch = batch
        self.deadline_cache = deadline_cache or DeadlineContextCache(settings.tz)

    async def tick(self) -> TickStats:
        now = self.clock()
        stats = TickStats()
        async with self.sessionmaker() as session, session.begin():
            options = await load_options(session)
            context = await self.deadline_cache.get(session)
            await digest.ensure_planned(session, now, context.calendar, options)
            await report_digest.ensure_planned(session, now, options, self.settings.tz)
            await reminders.release_stale(session, now)
            ids = await reminders.claim_due(session, now, self.batch)
        audience = reminders.Audience(options)
        while ids:
            stats.claimed += len(ids)
            try:
                await self._process(ids, now, audience, stats)
            except reminders.LostClaim:
                log.warning("a reminder batch was taken over by another tick; rolled back")
                stats.lost += len(ids)
            except Exception:
                # One bad row must not hold back the rest: go row by row, set the bad one aside.
                log.exception("reminder batch failed; retrying its %d rows one by one", len(ids))
                for one in ids:
                    await self._process_alone(one, now, audience, stats)
            if len(ids) < self.batch:
                break
            async with self.sessionmaker() as session, session.begin():
                ids = await reminders.claim_due(session, now, self.batch)
        stats.reports = await report_digest.run_due(self.sessionmaker, self.settings.tz, self.settings.data_dir, now,
                                                    report_sessionmaker(self.sessionmaker))
        return stats

    async def _process(self, ids: list[int], now: datetime, audience: reminders.Audience,
                       stats: TickStats) -> None:
        async with self.sessionmaker() as session, session.begin():
            ctx = await lifecycle_context(session, self.settings, now, self.deadline_cache)
            outcome = await reminders.process_claimed(ctx, ids, now, audience)
        stats.done += len(outcome.done)
        stats.cancelled += len(outcome.cancelled)

    async def _process_alone(self, reminder_id: int, now: datetime, audience: reminders.Audience,
                             stats: TickStats) -> None:
        try:
            await self._process([reminder_id], now, audience, stats)
        except reminders.LostClaim:
            stats.lost += 1
        except Exception:
            log.exception("reminder %s failed; set aside as failed", reminder_id)
            async with self.sessionmaker() as session, session.begin():
                await reminders.mark_failed(session, reminder_id, now)
            stats.failed += 1

    async def run(self) -> None:
        """The scheduler job: a failure is logged, and the next tick tries again."""
        try:
            await self.tick()
        except Exception:
            log.exception("reminder tick failed")

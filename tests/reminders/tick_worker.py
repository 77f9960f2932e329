"""The reminder tick in a process of its own, for the kill-and-restart test.

    python -m tests.reminders.tick_worker URL NOW [--batch N] [--stop-after-claim K | --stop-in-write K]

With a stop option the process announces «paused» on stdout at that point of its K-th batch and
waits there forever — for the test's SIGKILL: after the claim was committed, or inside the
transaction that has written the outbox rows but not committed them.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from core import reminders
from core.clock import ManualClock
from core.lifecycle import lifecycle_context
from core.settings import Settings
from db.engine import make_engine, make_sessionmaker
from scheduler.ticks import ReminderTicker, TickStats


class GatedTicker(ReminderTicker):
    def __init__(self, *args: object, stop_after_claim: int = 0, stop_in_write: int = 0, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.batches = 0
        self.stop_after_claim = stop_after_claim
        self.stop_in_write = stop_in_write

    async def _process(self, ids: list[int], now: datetime, audience: reminders.Audience,
                       stats: TickStats) -> None:
        self.batches += 1
        print("batch", self.batches, len(ids), flush=True)
        if self.batches == self.stop_after_claim:
            await pause()
        if self.batches == self.stop_in_write:
            async with self.sessionmaker() as session, session.begin():
                ctx = await lifecycle_context(session, self.settings, now, self.deadline_cache)
                await reminders.process_claimed(ctx, ids, now, audience)
                await session.flush()
                await pause()
        await super()._process(ids, now, audience, stats)


async def pause() -> None:
    print("paused", flush=True)
    await asyncio.Event().wait()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("now")
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--stop-after-claim", type=int, default=0)
    parser.add_argument("--stop-in-write", type=int, default=0)
    args = parser.parse_args()
    settings = Settings(_env_file=None, database_url=args.url, bot_token=None, redis_url=None,  # type: ignore[call-arg]
                        webhook_url=None, smtp_url=None, data_dir=Path("."))
    engine = make_engine(args.url)
    ticker = GatedTicker(make_sessionmaker(engine), settings, ManualClock(datetime.fromisoformat(args.now)),
                         batch=args.batch, stop_after_claim=args.stop_after_claim, stop_in_write=args.stop_in_write)
    stats = await ticker.tick()
    await engine.dispose()
    print(json.dumps(asdict(stats)), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)

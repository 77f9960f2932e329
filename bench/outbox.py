"""Outbox sender throughput through the sandbox Bot API, with Telegram's limits enforced.

Run:  .venv/bin/python bench/outbox.py [--messages 10000] [--chats 2000]

Queues the notifications in a SQLite file, starts the real sender (a real aiogram Bot against
the sandbox, which runs in its own process and counts every limit violation), and prints the
sustained rate against Telegram's 30 messages/s, the violations, and what was left unsent.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.factory import make_bot  # noqa: E402
from core.outbox import outbox_counts  # noqa: E402
from core.settings import Settings  # noqa: E402
from db.engine import make_engine, make_sessionmaker  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import OutboxMessage, OutboxPriority, utcnow  # noqa: E402
from bench.sandbox_process import sandbox_process  # noqa: E402
from scheduler.outbox_sender import OutboxSender  # noqa: E402

TELEGRAM_RATE = 30.0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--chats", type=int, default=2_000)
    args = parser.parse_args()

    async with sandbox_process() as (url, sb):
        chats = [40_000_000 + i for i in range(args.chats)]
        for chat in chats:
            await sb.add_user(chat, first_name="Житель")
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp}/outbox.db",  # type: ignore[call-arg]
                                data_dir=Path(tmp))
            await upgrade(settings.effective_database_url)
            engine = make_engine(settings.effective_database_url)
            maker = make_sessionmaker(engine)
            now = utcnow()
            async with maker() as session, session.begin():
                await session.execute(insert(OutboxMessage), [
                    {"transport": "telegram", "chat_id": chats[i % len(chats)], "method": "sendMessage",
                     "payload": {"text": f"Напоминание №{i}: срок ответа по обращению истекает завтра.",
                                 "parse_mode": "HTML"},
                     "priority": OutboxPriority.reminder, "status": "pending", "attempts": 0,
                     "next_attempt_at": now, "created_at": now}
                    for i in range(args.messages)])
            bot = make_bot(settings, api_url=url, dialogue=False)
            sender = OutboxSender(bot, maker)
            stop = asyncio.Event()
            start = time.perf_counter()
            runner = asyncio.create_task(sender.run(stop))
            progress_at = start
            while True:
                await asyncio.sleep(1)
                async with maker() as session:
                    counts = await outbox_counts(session)
                if time.perf_counter() - progress_at >= 30:
                    progress_at = time.perf_counter()
                    print(f"  … {counts.sent} sent, {counts.pending} waiting", flush=True)
                if counts.pending == 0 and counts.sending == 0:
                    break
            elapsed = time.perf_counter() - start
            stop.set()
            await runner
            await bot.session.close()
            await engine.dispose()
        stats = await sb.stats()
    rate = counts.sent / elapsed
    print(f"messages {args.messages} to {args.chats} chats: sent {counts.sent}, failed {counts.failed}")
    print(f"time {elapsed:.1f} s, sustained {rate:.2f} messages/s = {rate / TELEGRAM_RATE:.1%} of 30/s "
          f"(target ≥ 95%)")
    print(f"sandbox violations: {stats['violations']} (target 0); sends counted by the sandbox: {stats['sends']}")


if __name__ == "__main__":
    asyncio.run(main())

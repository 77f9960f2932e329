"""A flood from one user is stored whole but answered sparingly.

Each user has a token bucket for direct replies. A message that finds the bucket empty is
still handled, with ``throttled=True`` so the handler keeps it quietly; the first such message
of a flood gets one polite notice. Telegram itself allows about one message a second per chat.
"""
from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
MonotonicClock = Callable[[], float]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    noticed: bool = False


class ThrottlingMiddleware(BaseMiddleware):
    def __init__(self, burst: int, interval: float, clock: MonotonicClock = time.monotonic,
                 max_users: int = 100_000) -> None:
        self.burst = float(burst)
        self.interval = interval
        self.clock = clock
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}

    def _take(self, user_id: int) -> tuple[bool, bool]:
        """Returns (allowed, first_refusal_of_this_flood)."""
        now = self.clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) / self.interval)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            if bucket.tokens >= self.burst - 1:
                bucket.noticed = False  # the flood is over
            return True, False
        first = not bucket.noticed
        bucket.noticed = True
        return False, first

    def _forget_idle(self, now: float) -> None:
        horizon = self.burst * self.interval
        for user_id in [u for u, b in self._buckets.items() if now - b.updated > horizon]:
            del self._buckets[user_id]

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data["throttled"] = False
        data["throttle_notice"] = False
        if isinstance(event, Message) and event.from_user and not event.media_group_id:
            allowed, first = self._take(event.from_user.id)
            data["throttled"] = not allowed
            data["throttle_notice"] = first
        return await handler(event, data)

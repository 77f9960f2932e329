"""Telegram's sending limits as token buckets, kept by the one outbox sender.

About 30 messages a second in all, one a second to a private chat, twenty a minute to a group.
A 429 from Telegram pauses everything for the time it asks.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Monotonic = Callable[[], float]


@dataclass(slots=True)
class _Bucket:
    capacity: float
    rate: float  # tokens per second
    tokens: float
    stamp: float

    def wait(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class RateGate:
    global_per_sec: float = 30.0
    global_burst: float = 5.0
    chat_per_sec: float = 1.0
    group_per_min: float = 20.0
    clock: Monotonic = time.monotonic
    _global: _Bucket | None = None
    _chats: dict[int, _Bucket] = field(default_factory=dict)
    _paused_until: float = 0.0

    def _bucket_for(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups and channels
                bucket = _Bucket(self.group_per_min, self.group_per_min / 60.0, self.group_per_min, now)
            else:
                bucket = _Bucket(1.0, self.chat_per_sec, 1.0, now)
            self._chats[chat_id] = bucket
        return bucket

    def chat_wait(self, chat_id: int) -> float:
        return self._bucket_for(chat_id, self.clock()).wait(self.clock())

    def global_wait(self) -> float:
        now = self.clock()
        if self._global is None:
            self._global = _Bucket(self.global_burst, self.global_per_sec, self.global_burst, now)
        return max(self._paused_until - now, self._global.wait(now))

    def take(self, chat_id: int) -> None:
        assert self._global is not None
        self._global.tokens -= 1
        self._bucket_for(chat_id, self.clock()).tokens -= 1

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def forget_idle(self) -> None:
        """Drop full buckets of chats not written to lately (memory stays small)."""
        now = self.clock()
        for chat_id in [c for c, b in self._chats.items() if b.wait(now) == 0 and b.tokens >= b.capacity]:
            del self._chats[chat_id]

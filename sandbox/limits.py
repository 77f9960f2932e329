"""Flood control: Telegram-like token buckets, with an injectable clock.

Defaults follow Telegram's published guidance: ~30 messages/s per bot overall,
~1 message/s per private chat (short bursts tolerated, hence ``burst``), and
20 messages/min per group. Only *sends* are counted — edits, chat actions and
callback answers are not. A media group costs one token per item.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable

from .errors import too_many_requests

Clock = Callable[[], float]  # monotonic seconds


@dataclass
class LimitConfig:
    enabled: bool = True
    # strict: no burst tolerance in private chats (exactly per_chat_per_sec).
    strict: bool = False
    global_per_sec: float = 30.0
    per_chat_per_sec: float = 1.0
    group_per_min: float = 20.0
    burst: int = 3

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self)}
        for key, value in values.items():
            if key not in known:
                raise ValueError(f"unknown limit option {key!r}")
            current = getattr(self, key)
            if isinstance(current, bool) and isinstance(value, str):
                value = value.strip().lower() in ("true", "1", "yes", "on")
            setattr(self, key, type(current)(value))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class TokenBucket:
    """Classic bucket; may go into debt so an album larger than ``capacity`` still fits."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate  # tokens per second
        self.tokens = capacity
        self.stamp = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float, cost: float) -> float:
        """Seconds until ``cost`` can be paid (0 → allowed now)."""
        self._refill(now)
        need = min(cost, self.capacity)
        if self.tokens >= need:
            return 0.0
        return (need - self.tokens) / self.rate

    def take(self, cost: float) -> None:
        self.tokens -= cost


class RateLimiter:
    def __init__(self, config: LimitConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or LimitConfig()
        self.clock: Clock = clock or time.monotonic
        self._buckets: dict[tuple[int, int | str], TokenBucket] = {}
        # (bot_id, kind) → count; kind is "global", "chat" or "group".
        self.violations: Counter[tuple[int, str]] = Counter()

    def reset(self) -> None:
        self._buckets.clear()
        self.violations.clear()

    def reconfigure(self, values: dict[str, Any]) -> None:
        self.config.update(values)
        self._buckets.clear()  # new rates apply to fresh buckets

    def _bucket(self, key: tuple[int, int | str], capacity: float, rate: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.capacity != capacity or bucket.rate != rate:
            bucket = self._buckets[key] = TokenBucket(capacity, rate, now)
        return bucket

    def check(self, bot_id: int, chat_id: int, is_group: bool, cost: int = 1) -> None:
        """Charge ``cost`` sends or raise a 429 ``ApiError`` (counting the violation)."""
        cfg = self.config
        if not cfg.enabled:
            return
        now = self.clock()
        if is_group:
            kind, capacity, rate = "group", cfg.group_per_min, cfg.group_per_min / 60.0
        else:
            kind, rate = "chat", cfg.per_chat_per_sec
            capacity = 1.0 if cfg.strict else float(max(1, cfg.burst))
        chat = self._bucket((bot_id, chat_id), capacity, rate, now)
        overall = self._bucket((bot_id, "global"), cfg.global_per_sec, cfg.global_per_sec, now)
        for name, bucket in ((kind, chat), ("global", overall)):
            wait = bucket.wait_time(now, cost)
            if wait > 0:
                self.violations[(bot_id, name)] += 1
                raise too_many_requests(math.ceil(wait))
        chat.take(cost)
        overall.take(cost)

    def violations_by_kind(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for (_, kind), count in self.violations.items():
            totals[kind] += count
        return {kind: totals.get(kind, 0) for kind in ("global", "chat", "group")}

    def violations_by_bot(self) -> dict[int, dict[str, int]]:
        result: dict[int, dict[str, int]] = {}
        for (bot_id, kind), count in self.violations.items():
            result.setdefault(bot_id, {})[kind] = count
        return result

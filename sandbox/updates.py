"""Per-bot update queue with Telegram's getUpdates semantics.

* ``offset`` confirms: delivered updates with a smaller ``update_id`` are
  forgotten; unconfirmed ones are delivered again (at-least-once).
* An update that was never delivered is kept even if its id is below the
  offset — that is how ``/sandbox/updates/raw`` can re-deliver an old
  ``update_id`` to test the app's de-duplication.
* A new getUpdates terminates a pending one with 409, as the real server does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from .errors import conflict
from .wakeup import Signal

# What Telegram sends when allowed_updates is empty/unset.
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

TERMINATED = "terminated by other getUpdates request; make sure that only one bot instance is running"


@dataclass(eq=False)  # identity semantics: equal-looking duplicates are distinct items
class Queued:
    update: dict[str, Any]
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


@dataclass
class _Poll:
    """One pending getUpdates; ``terminated`` is set when a newer one arrives."""

    terminated: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)


def update_type(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


class UpdateQueue:
    def __init__(self) -> None:
        self.items: list[Queued] = []
        self.signal = Signal()
        self.allowed_updates: frozenset[str] | None = None  # None = Telegram's default set
        self._poll: _Poll | None = None
        self.closed = False  # server shutting down: long polls return at once

    def __len__(self) -> int:
        return len(self.items)

    @property
    def polling(self) -> bool:
        return self._poll is not None

    def accepts(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED
        return kind in self.allowed_updates

    def set_allowed(self, allowed: list[str] | None) -> None:
        # Telegram keeps the previous setting when the parameter is omitted.
        if allowed is not None:
            self.allowed_updates = frozenset(allowed) if allowed else None

    def push(self, update: dict[str, Any], *, force: bool = False) -> bool:
        """Queue an update unless ``allowed_updates`` filters it out."""
        if not force and not self.accepts(update_type(update)):
            return False
        self.items.append(Queued(update))
        self.signal.fire()
        return True

    def clear(self) -> None:
        self.items.clear()
        self.signal.fire()

    def confirm(self, offset: int) -> None:
        if offset < 0:
            # Negative offset: keep only the last -offset updates.
            self.items = self.items[offset:]
        elif offset > 0:
            self.items = [q for q in self.items if q.update_id >= offset or not q.delivered]

    def ready(self, offset: int, limit: int) -> list[Queued]:
        picked = [q for q in self.items if offset <= 0 or q.update_id >= offset or not q.delivered]
        return picked[:limit]

    def close(self) -> None:
        self.closed = True
        if self._poll is not None:
            self._poll.wake.set()
        self.signal.fire()

    def terminate_poll(self) -> None:
        """Make a pending getUpdates answer 409 (used by a newer getUpdates and setWebhook)."""
        if self._poll is not None:
            self._poll.terminated = True
            self._poll.wake.set()
            self._poll = None

    async def get_updates(self, offset: int, limit: int, timeout: float) -> list[dict[str, Any]]:
        self.terminate_poll()
        poll = self._poll = _Poll()
        try:
            self.confirm(offset)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(0.0, timeout)
            while True:
                # Snapshot before checking so a push in between cannot be missed.
                fired = self.signal.snapshot()
                if poll.terminated:
                    raise conflict(TERMINATED)
                picked = self.ready(offset, limit)
                remaining = deadline - loop.time()
                if picked or remaining <= 0 or self.closed:
                    for q in picked:
                        q.delivered = True
                    return [q.update for q in picked]
                # Wait for a new update, termination, or the deadline.
                signal_wait = asyncio.ensure_future(fired.wait())
                poll_wait = asyncio.ensure_future(poll.wake.wait())
                try:
                    await asyncio.wait({signal_wait, poll_wait}, timeout=remaining,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    signal_wait.cancel()
                    poll_wait.cancel()
        finally:
            if self._poll is poll:
                self._poll = None

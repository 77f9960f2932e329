"""A tiny broadcast wake-up primitive for long polls."""

from __future__ import annotations

import asyncio


class Signal:
    """Every ``fire()`` wakes everyone currently waiting; later waiters wait anew.

    Waiters must re-check their condition after waking: the signal carries no
    data, which keeps it race-free (check → wait → re-check).
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def snapshot(self) -> asyncio.Event:
        """The event the *next* ``fire()`` sets; grab it before checking state."""
        return self._event

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> bool:
        """True if fired within ``timeout`` seconds."""
        event = self._event
        if timeout <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

"""Shared constants and helpers for the sandbox tests (imported by conftest and tests)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

TOKEN = "123456:TEST-token_abc"
USER = 1001


class FakeClock:
    """Monotonic clock the rate limiter reads; tests move time instead of sleeping.

    By default every reading advances one second, so ordinary tests never hit
    flood control; rate-limit tests set ``step = 0`` to freeze time.
    """

    def __init__(self, step: float = 1.0) -> None:
        self.now = 1000.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class QuickCloseSession(AiohttpSession):
    """The stock AiohttpSession, minus the 250 ms sleep ``close()`` grants TLS
    connections to shut down — the sandbox is plain HTTP, and the sleep alone
    would make up half of this suite's run time."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


def make_bot(url: str, token: str = TOKEN) -> Bot:
    """A real aiogram Bot pointed at the sandbox."""
    return Bot(token, session=QuickCloseSession(api=TelegramAPIServer.from_base(url)))

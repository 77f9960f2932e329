"""A request middleware for direct replies: Telegram's 429 is honoured, a passing 5xx retried.

Notifications go through the outbox, which has its own policy; this only keeps a live
dialogue from failing on a brief push-back.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, attempts: int = 3, max_wait: float = 10.0) -> None:
        self.attempts = attempts
        self.max_wait = max_wait

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Any:
        if method.__api_method__ == "getUpdates":
            return await make_request(bot, method)  # the polling loop has its own backoff
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if attempt == self.attempts or exc.retry_after > self.max_wait:
                    raise
                log.info("%s: 429, retrying in %ss", method.__api_method__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except TelegramServerError:
                if attempt == self.attempts:
                    raise
                await asyncio.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

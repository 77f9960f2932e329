"""The real bot, polling the sandbox Bot API over HTTP, with a test's view of both ends."""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import make_bot, make_dispatcher
from bot.middlewares.throttling import ThrottlingMiddleware
from core.settings import Settings
from sandbox import SandboxClient
from sandbox import start_sandbox

NUMBER = re.compile(r"№ (\d{4}-\d{6})")


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@dataclass
class Harness:
    bot: Bot
    dp: Dispatcher
    sb: SandboxClient
    sessionmaker: async_sessionmaker[AsyncSession]
    throttle_clock: FakeMonotonic
    users: set[int] = field(default_factory=set)

    async def user(self, user_id: int, first_name: str = "Анна", language_code: str = "ru") -> int:
        await self.sb.add_user(user_id, first_name=first_name, language_code=language_code)
        self.users.add(user_id)
        return user_id

    async def last_id(self, chat_id: int) -> int:
        messages = await self.sb.messages(chat_id)
        return max((m["message_id"] for m in messages), default=0)

    async def reply_to(self, user_id: int, send: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        """Do `send` (something the user sends) and return the bot's first message after it."""
        after = await self.last_id(user_id)
        await send()
        return await self.sb.wait_bot_message(user_id, after=after, timeout=10)

    async def say(self, user_id: int, text: str, *, pause: float = 5.0) -> dict[str, Any]:
        """Send text as the user and return the bot's first reply."""
        self.throttle_clock.value += pause  # a person types; no flood
        return await self.reply_to(user_id, lambda: self.sb.send_text(user_id, text))

    async def press(self, user_id: int, message: dict[str, Any], text_contains: str) -> dict[str, Any]:
        """Press the inline button whose text contains `text_contains`.

        Returns the pressed message if the bot edited it, else the bot's next new message.
        """
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        button = next(b for row in rows for b in row if text_contains in b["text"])
        after = await self.last_id(user_id)
        await self.sb.press(user_id, message["message_id"], button["callback_data"])
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline:
            current = await self.sb.messages(user_id, after=message["message_id"] - 1)
            pressed = next(m for m in current if m["message_id"] == message["message_id"])
            if pressed.get("text") != message.get("text"):
                return pressed
            fresh = [m for m in current if m["message_id"] > after and m["from_bot"]]
            if fresh:
                return fresh[0]
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not react to the button")

    async def consent(self, user_id: int) -> None:
        greeting = await self.say(user_id, "/start")
        after = await self.last_id(user_id)
        await self.press(user_id, greeting, "Согласен")
        # The invitation to write follows the edited greeting; wait so it is not mistaken later.
        await self.sb.wait_bot_message(user_id, after=after, timeout=10)


@pytest.fixture
async def sandbox_server() -> AsyncIterator[Any]:
    server = await start_sandbox(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
async def harness(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession], sandbox_server: Any
) -> AsyncIterator[Harness]:
    clock = FakeMonotonic()
    bot = make_bot(settings, api_url=sandbox_server.url)
    dp = make_dispatcher(
        settings, sessionmaker, throttling=ThrottlingMiddleware(settings.throttle_burst, settings.throttle_interval, clock)
    )
    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    async with SandboxClient(sandbox_server.url) as sb:
        # Conversations in tests are fast; the flood test turns the limits back on.
        await sb.limits(enabled=False)
        yield Harness(bot, dp, sb, sessionmaker, clock)
    await dp.stop_polling()
    await asyncio.wait_for(polling, 10)
    await bot.session.close()

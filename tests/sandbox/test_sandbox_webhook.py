"""Webhook delivery to a tiny local aiohttp server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError

from sandbox_helpers import USER
from sandbox import SandboxClient

pytestmark = pytest.mark.asyncio


async def _receiver(statuses: list[int]) -> tuple[web.AppRunner, str, list[dict[str, Any]], asyncio.Queue[None]]:
    """A webhook endpoint answering with ``statuses`` in turn (then 200)."""
    received: list[dict[str, Any]] = []
    arrived: asyncio.Queue[None] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        received.append({"secret": request.headers.get("X-Telegram-Bot-Api-Secret-Token"),
                         "update": await request.json()})
        arrived.put_nowait(None)
        return web.Response(status=statuses.pop(0) if statuses else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hook", received, arrived


async def test_webhook_push_with_secret_and_retry(bot: Bot, sb: SandboxClient) -> None:
    runner, url, received, arrived = await _receiver([500])
    try:
        assert await bot.set_webhook(url, secret_token="s3cr3t", drop_pending_updates=True)
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates(timeout=0)
        sent = await sb.send_text(USER, "через вебхук")
        await asyncio.wait_for(arrived.get(), 5)  # first attempt → 500
        await asyncio.wait_for(arrived.get(), 5)  # retried after backoff → 200
        assert [r["secret"] for r in received] == ["s3cr3t", "s3cr3t"]
        assert received[1]["update"]["update_id"] == sent["update_id"]
        assert received[1]["update"]["message"]["text"] == "через вебхук"
        for _ in range(50):  # the queue empties right after the 200
            info = await bot.get_webhook_info()
            if info.pending_update_count == 0:
                break
            await asyncio.sleep(0.02)
        assert info.url == url and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        assert await bot.delete_webhook()
        assert (await bot.get_webhook_info()).url == ""
        assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_aiogram_webhook_handler_and_reply_in_response(bot: Bot, sb: SandboxClient) -> None:
    """aiogram's own webhook handler; its answer rides back in the HTTP response (multipart)."""
    from aiogram import Dispatcher
    from aiogram.types import Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        return message.answer(f"Ответ: {message.text}")  # returned, not awaited → webhook reply

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="tok").register(app, path="/wh")
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        await bot.set_webhook(f"http://127.0.0.1:{port}/wh", secret_token="tok")
        sent = await sb.send_text(USER, "привет")
        answer = await sb.wait_bot_message(USER, after=sent["message"]["message_id"], timeout=5)
        assert answer["text"] == "Ответ: привет"
    finally:
        await bot.delete_webhook()
        await runner.cleanup()


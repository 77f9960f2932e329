"""Webhook delivery: POST queued updates to the bot's URL, in order, with retries.

Like Telegram: one update per request as JSON, ``X-Telegram-Bot-Api-Secret-Token``
when a secret is set, any 2xx confirms, anything else is recorded as
``last_error_*`` and retried with exponential backoff. A JSON/form reply body
carrying ``"method"`` is executed as a Bot API call ("reply to webhook").
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

import aiohttp

from .params import Params, Upload
from .models import BotAccount
from .state import World

log = logging.getLogger(__name__)

# (world, bot, method name, params) → result; injected to avoid an import cycle.
Dispatch = Callable[[World, BotAccount, str, Params], Awaitable[Any]]


async def _reply_params(resp: aiohttp.ClientResponse) -> Params | None:
    """Parse a "reply to webhook" body; aiogram sends multipart, others JSON."""
    if resp.content_type == "application/json":
        try:
            body = await resp.json()
        except (ValueError, aiohttp.ContentTypeError):
            return None
        return Params(values=body) if isinstance(body, dict) and "method" in body else None
    if resp.content_type == "multipart/form-data":
        params = Params()
        reader = aiohttp.MultipartReader.from_response(resp)
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            data = await part.read()
            if part.filename:
                params.uploads[part.name] = Upload(part.filename, part.headers.get("Content-Type"), data)
            else:
                params.values[part.name] = data.decode("utf-8")
        return params if "method" in params.values else None
    return None


async def _post(session: aiohttp.ClientSession, world: World, bot: BotAccount,
                update: dict[str, Any], dispatch: Dispatch) -> str | None:
    """Deliver one update; returns Telegram-style error text or None on success."""
    hook = bot.webhook
    assert hook is not None
    headers = {"Content-Type": "application/json"}
    if hook.secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
    try:
        async with session.post(hook.url, data=json.dumps(update, ensure_ascii=False), headers=headers) as resp:
            if not 200 <= resp.status < 300:
                return f"Wrong response from the webhook: {resp.status} {resp.reason}"
            reply = await _reply_params(resp)
    except asyncio.TimeoutError:
        return "Read timeout expired"
    except aiohttp.ClientConnectorError:
        return "Connection refused"
    except aiohttp.ClientError as exc:
        return f"{type(exc).__name__}: {exc}"
    if reply is not None:
        name = str(reply.values.pop("method"))
        try:
            await dispatch(world, bot, name, reply)
        except Exception:  # noqa: BLE001 - Telegram ignores failures of webhook replies too
            log.info("webhook reply %s failed", name, exc_info=True)
    return None


async def run_webhook(world: World, bot: BotAccount, dispatch: Dispatch) -> None:
    """Worker task; started by setWebhook, cancelled by deleteWebhook/reset/shutdown."""
    first_delay, max_delay = world.webhook_retry
    delay = first_delay
    timeout = aiohttp.ClientTimeout(total=world.webhook_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while bot.webhook is not None:
            fired = bot.queue.signal.snapshot()
            if not bot.queue.items:
                await fired.wait()
                continue
            item = bot.queue.items[0]
            error = await _post(session, world, bot, item.update, dispatch)
            if error is None:
                world.stats.webhook_deliveries += 1
                if item in bot.queue.items:
                    bot.queue.items.remove(item)
                delay = first_delay
                continue
            world.stats.webhook_failures += 1
            if bot.webhook is not None:
                bot.webhook.last_error_date = world.now()
                bot.webhook.last_error_message = error
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)

"""getMe, getUpdates and the webhook methods."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ..errors import bad_request, conflict
from ..webhook import run_webhook
from ..models import WebhookConfig
from .registry import Ctx, Described, call, method

_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_ACTIVE = "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"


@method("getMe")
async def get_me(ctx: Ctx) -> dict[str, Any]:
    return {
        **ctx.bot.user_api(),
        "can_join_groups": True,
        # Privacy mode is off: the sandbox delivers every group message.
        "can_read_all_group_messages": True,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@method("logOut", "close")
async def log_out(ctx: Ctx) -> bool:
    return True


@method("getUpdates")
async def get_updates(ctx: Ctx) -> list[dict[str, Any]]:
    params, queue = ctx.params, ctx.bot.queue
    if ctx.bot.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    limit = min(100, max(1, params.integer("limit", 100) or 100))
    timeout = max(0, params.integer("timeout", 0) or 0)
    allowed = params.json("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    queue.set_allowed(allowed)
    return await queue.get_updates(params.integer("offset", 0) or 0, limit, float(timeout))


@method("setWebhook")
async def set_webhook(ctx: Ctx) -> Described:
    params, bot = ctx.params, ctx.bot
    url = params.string("url", "") or ""
    if not url:
        return await delete_webhook(ctx)
    if not url.lower().startswith(("http://", "https://")):
        # Telegram insists on HTTPS; the sandbox also allows plain HTTP for local servers.
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token")
    if secret and not _SECRET.match(secret):
        raise bad_request("bad webhook: secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40) or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.json("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise bad_request("can't parse allowed_updates JSON object")
    already = bot.webhook is not None and bot.webhook.url == url
    if params.flag("drop_pending_updates"):
        bot.queue.clear()
    bot.queue.set_allowed(allowed)
    bot.queue.terminate_poll()  # a pending getUpdates ends with 409, as in Telegram
    bot.webhook = WebhookConfig(url, secret or None, max_connections)
    if bot.webhook_task is None or bot.webhook_task.done():
        bot.webhook_task = asyncio.create_task(run_webhook(ctx.world, bot, call))
    return Described(True, "Webhook is already set" if already else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(ctx: Ctx) -> Described:
    bot = ctx.bot
    existed = bot.webhook is not None
    bot.stop_webhook()
    bot.webhook = None
    if ctx.params.flag("drop_pending_updates"):
        bot.queue.clear()
    return Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(ctx: Ctx) -> dict[str, Any]:
    bot = ctx.bot
    info: dict[str, Any] = {
        "url": bot.webhook.url if bot.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.queue),
    }
    if bot.webhook is not None:
        info["max_connections"] = bot.webhook.max_connections
        info["ip_address"] = "127.0.0.1"
        if bot.webhook.last_error_date is not None:
            info["last_error_date"] = bot.webhook.last_error_date
            info["last_error_message"] = bot.webhook.last_error_message
    if bot.queue.allowed_updates is not None:
        info["allowed_updates"] = sorted(bot.queue.allowed_updates)
    return info

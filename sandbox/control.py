"""Control API for the world itself: users, groups, bots, limits, faults, stats, reset.

User *actions* live in :mod:`sandbox.inbox`, chat observation in :mod:`sandbox.views`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .ctlutil import body_of, bot_for, fail, int_of, reply, world_of
from .models import BotAccount
from .state import World


async def upsert_user(request: web.Request) -> web.Response:
    world, body = world_of(request), await body_of(request)
    user_id = int_of(body.get("id", body.get("user_id")), "id")
    if user_id <= 0:
        fail(400, "user ids are positive (group ids are negative)")
    extra = {k: body[k] for k in ("last_name", "username", "language_code", "started") if k in body}
    user = world.upsert_user(user_id, body.get("first_name"), **extra)
    return reply({"user": user.to_api(), "blocked": user.blocked, "started": user.started})


async def list_users(request: web.Request) -> web.Response:
    users = world_of(request).users.values()
    return reply({"users": [u.to_api() | {"blocked": u.blocked, "started": u.started} for u in users]})


async def add_group(request: web.Request) -> web.Response:
    world, body = world_of(request), await body_of(request)
    chat_id = int_of(body.get("id", body.get("chat_id")), "id")
    if chat_id >= 0:
        fail(400, "group ids are negative")
    kind = body.get("type", "supergroup" if str(chat_id).startswith("-100") else "group")
    if kind not in ("group", "supergroup"):
        fail(400, "type must be group or supergroup")
    chat = world.add_group(chat_id, str(body.get("title") or f"Group {chat_id}"), kind)
    for member in body.get("members", []):
        _add_member(world, chat_id, int_of(member, "members[]"))
    return reply({"chat": chat.to_api(), "members": sorted(chat.members)})


def _add_member(world: World, chat_id: int, user_id: int) -> None:
    chat = world.chats.get(chat_id)
    if chat is None or not chat.is_group:
        fail(404, "group not found")
    if user_id not in world.users:
        world.upsert_user(user_id)
    chat.members.add(user_id)


async def add_members(request: web.Request) -> web.Response:
    world, body = world_of(request), await body_of(request)
    chat_id = int_of(request.match_info["chat_id"], "chat_id")
    ids = body.get("user_ids") or [body.get("user_id")]
    for user_id in ids:
        _add_member(world, chat_id, int_of(user_id, "user_id"))
    return reply({"members": sorted(world.chats[chat_id].members)})


def _bot_info(bot: BotAccount) -> dict[str, Any]:
    hook = bot.webhook
    return {
        "id": bot.id,
        "token": bot.token,
        "username": bot.username,
        "first_name": bot.first_name,
        "pending_update_count": len(bot.queue),
        "polling": bot.queue.polling,
        "allowed_updates": sorted(bot.queue.allowed_updates) if bot.queue.allowed_updates else None,
        "webhook": None if hook is None else {
            "url": hook.url, "has_secret": bool(hook.secret_token),
            "last_error_date": hook.last_error_date, "last_error_message": hook.last_error_message,
        },
        "commands": [{"scope": k[0], "language_code": k[1], "commands": v} for k, v in bot.commands.items()],
    }


async def list_bots(request: web.Request) -> web.Response:
    return reply({"bots": [_bot_info(b) for b in world_of(request).bots.values()]})


async def upsert_bot(request: web.Request) -> web.Response:
    world, body = world_of(request), await body_of(request)
    bot = bot_for(world, body.get("token") or fail(400, "token is required"))
    assert bot is not None
    bot.username = str(body.get("username") or bot.username)
    bot.first_name = str(body.get("first_name") or bot.first_name)
    return reply({"bot": _bot_info(bot)})


async def stats(request: web.Request) -> web.Response:
    world = world_of(request)
    s = world.stats
    return reply({
        "calls": dict(s.calls),
        "sends": s.sends,
        "violations": world.limiter.violations_by_kind(),
        "violations_by_bot": {str(k): v for k, v in world.limiter.violations_by_bot().items()},
        "faults_injected": dict(world.faults.injected),
        "errors": {str(code): n for code, n in s.errors.items()},
        "updates_queued": s.updates_queued,
        "webhook_deliveries": s.webhook_deliveries,
        "webhook_failures": s.webhook_failures,
    })


async def get_faults(request: web.Request) -> web.Response:
    faults = world_of(request).faults
    return reply({"rules": [r.as_dict() for r in faults.rules], "injected": dict(faults.injected)})


async def add_fault(request: web.Request) -> web.Response:
    faults, body = world_of(request).faults, await body_of(request)
    try:
        rule = faults.add(body)
    except (TypeError, ValueError) as exc:
        fail(400, str(exc))
    return reply({"rule": rule.as_dict(), "rules": [r.as_dict() for r in faults.rules]})


async def clear_faults(request: web.Request) -> web.Response:
    world_of(request).faults.clear()
    return reply({"rules": []})


async def get_limits(request: web.Request) -> web.Response:
    limiter = world_of(request).limiter
    return reply({"limits": limiter.config.as_dict(), "violations": limiter.violations_by_kind()})


async def set_limits(request: web.Request) -> web.Response:
    limiter, body = world_of(request).limiter, await body_of(request)
    try:
        limiter.reconfigure(body)
    except (TypeError, ValueError) as exc:
        fail(400, str(exc))
    return reply({"limits": limiter.config.as_dict()})


async def reset(request: web.Request) -> web.Response:
    world_of(request).reset()
    return reply({"ok": True})


async def file_bytes(request: web.Request) -> web.Response:
    stored = world_of(request).files.get(request.match_info["file_id"])
    if stored is None:
        fail(404, "file not found")
    return web.Response(body=stored.data, content_type=stored.mime_type or "application/octet-stream")


async def index(request: web.Request) -> web.Response:
    routes = sorted({f"{r.method} {r.resource.canonical}" for r in request.app.router.routes()
                     if r.resource is not None and r.resource.canonical.startswith("/sandbox")})
    return reply({"sandbox": "Telegram Bot API sandbox", "routes": routes})


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/sandbox", index)
    r.add_get("/sandbox/", index)
    r.add_post("/sandbox/users", upsert_user)
    r.add_get("/sandbox/users", list_users)
    r.add_post("/sandbox/groups", add_group)
    r.add_post("/sandbox/groups/{chat_id}/members", add_members)
    r.add_get("/sandbox/bots", list_bots)
    r.add_post("/sandbox/bots", upsert_bot)
    r.add_get("/sandbox/stats", stats)
    r.add_get("/sandbox/faults", get_faults)
    r.add_post("/sandbox/faults", add_fault)
    r.add_delete("/sandbox/faults", clear_faults)
    r.add_get("/sandbox/limits", get_limits)
    r.add_post("/sandbox/limits", set_limits)
    r.add_post("/sandbox/reset", reset)
    r.add_get("/sandbox/files/{file_id}", file_bytes)

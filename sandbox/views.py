"""Observing chats: message history, the long-poll ``wait``, answers and actions."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .ctlutil import chat_from_path, fail, reply, world_of
from .models import Chat

MAX_WAIT = 60.0


def _after(request: web.Request) -> int:
    try:
        return int(request.query.get("after", "0"))
    except ValueError:
        fail(400, "after must be an integer message_id")


def _summary(chat: Chat) -> dict[str, Any]:
    return {
        "chat": chat.to_api(),
        "members": sorted(chat.members),
        "message_count": len(chat.messages),
        "keyboard": chat.keyboard,  # the reply keyboard a client would display now
    }


async def list_chats(request: web.Request) -> web.Response:
    return reply({"chats": [_summary(c) for c in world_of(request).chats.values()]})


async def get_chat(request: web.Request) -> web.Response:
    return reply(_summary(chat_from_path(request)))


async def messages(request: web.Request) -> web.Response:
    chat, after = chat_from_path(request), _after(request)
    return reply({"messages": [m.view() for m in chat.messages.values() if m.message_id > after]})


async def wait(request: web.Request) -> web.Response:
    """Return as soon as the bot has sent a message with id > ``after`` (or ``[]`` on timeout)."""
    world, chat, after = world_of(request), chat_from_path(request), _after(request)
    try:
        timeout = min(MAX_WAIT, float(request.query.get("timeout", "5")))
    except ValueError:
        fail(400, "timeout must be a number of seconds")
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        fired = chat.signal.snapshot()  # before checking, so nothing slips through
        found = [m.view() for m in chat.messages.values() if m.from_bot and m.message_id > after]
        remaining = deadline - asyncio.get_running_loop().time()
        if found or remaining <= 0 or world.closing:
            return reply({"messages": found})
        try:
            await asyncio.wait_for(fired.wait(), remaining)
        except asyncio.TimeoutError:
            pass


async def callback_answers(request: web.Request) -> web.Response:
    return reply({"answers": chat_from_path(request).callback_answers})


async def actions(request: web.Request) -> web.Response:
    return reply({"actions": chat_from_path(request).actions})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/sandbox/chats", list_chats)
    app.router.add_get("/sandbox/chats/{chat_id}", get_chat)
    app.router.add_get("/sandbox/chats/{chat_id}/messages", messages)
    app.router.add_get("/sandbox/chats/{chat_id}/wait", wait)
    app.router.add_get("/sandbox/chats/{chat_id}/callback_answers", callback_answers)
    app.router.add_get("/sandbox/chats/{chat_id}/actions", actions)

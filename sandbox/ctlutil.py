"""Small helpers shared by the control-API modules (JSON in, JSON out)."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from typing import Any, NoReturn

from aiohttp import web

from .botapi import TOKEN, WORLD
from .models import BotAccount, Chat
from .state import World

dumps = functools.partial(json.dumps, ensure_ascii=False)


def world_of(request: web.Request) -> World:
    return request.app[WORLD]


def reply(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def fail(status: int, message: str) -> NoReturn:
    """Abort with ``{"ok": false, "error": message}``."""
    cls = {404: web.HTTPNotFound, 409: web.HTTPConflict}.get(status, web.HTTPBadRequest)
    raise cls(text=dumps({"ok": False, "error": message}), content_type="application/json")


async def body_of(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        data = await request.json()
    except ValueError:
        fail(400, "request body must be JSON")
    if not isinstance(data, dict):
        fail(400, "request body must be a JSON object")
    return data


def int_of(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        fail(400, f"{name} must be an integer")


def chat_from_path(request: web.Request) -> Chat:
    chat = world_of(request).chats.get(int_of(request.match_info["chat_id"], "chat_id"))
    if chat is None:
        fail(404, "chat not found")
    return chat


def bot_for(world: World, token: str | None) -> BotAccount | None:
    """The named bot, or the first one that ever talked to the sandbox."""
    if token:
        if not TOKEN.match(token):
            fail(400, "bot_token must look like 123456:ABC-def")
        return world.bot(token)
    return world.default_bot()


def decode_b64(value: Any, name: str) -> bytes:
    """Base64 (optionally a ``data:...;base64,`` URL, as a browser would send)."""
    if not isinstance(value, str):
        fail(400, f"{name} must be a base64 string")
    if value.startswith("data:") and "," in value:
        value = value.split(",", 1)[1]
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        fail(400, f"{name} is not valid base64")

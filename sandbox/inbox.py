"""What users do: send messages, press buttons, block the bot; plus raw updates.

Each action stores what a Telegram client would show and queues the Update the
bot would receive.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .ctlutil import body_of, bot_for, decode_b64, fail, int_of, reply, world_of
from .files import media_object
from .models import BotAccount, Chat, User
from .state import World
from .textutil import command_entities
from .validate import callback_datas

_MEDIA = ("photo", "document", "voice", "video_note", "sticker")
_KINDS = ("text", *_MEDIA, "contact", "location")


def _media(world: World, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """``{"photo": "<b64>", "filename": ...}`` or ``{"photo": {"data": "<b64>", ...}}``."""
    spec = body[kind]
    if kind == "sticker" and isinstance(spec, str):
        spec = {"emoji": spec}  # a bare string is the sticker's emoji
    if not isinstance(spec, dict):
        spec = {"data": spec, **{k: body[k] for k in ("filename", "mime_type", "duration") if k in body}}
    if kind == "sticker" and "data" not in spec:
        data = b"RIFF\x00\x00\x00\x00WEBPVP8X" + bytes(18)  # placeholder: clients never see it
    else:
        data = decode_b64(spec.get("data"), f"{kind}.data")
    defaults = {"voice": "audio/ogg", "video_note": "video/mp4", "sticker": "image/webp"}
    meta: dict[str, Any] = {
        "file_name": spec.get("filename") or spec.get("file_name"),
        "mime_type": spec.get("mime_type") or spec.get("mime") or defaults.get(kind),
    }
    if kind in ("voice", "video_note"):
        meta["duration"] = int(spec.get("duration", 1))
    if kind == "video_note":
        meta["width"] = int(spec.get("length", 240))
    if kind == "sticker":
        meta.update(emoji=spec.get("emoji"), width=512, height=512)
    if kind == "document" and not meta["mime_type"]:
        meta["mime_type"] = "application/octet-stream"
    return {kind: media_object(world.files.add(kind, data, **meta))}


def _content(world: World, body: dict[str, Any], user: User) -> dict[str, Any]:
    kinds = [k for k in _KINDS if body.get(k) not in (None, "")]
    if len(kinds) != 1:
        fail(400, f"pass exactly one of {', '.join(_KINDS)}")
    kind = kinds[0]
    if kind == "text":
        text = str(body["text"])
        entities = body.get("entities") or command_entities(text)
        return {"text": text, "entities": entities} if entities else {"text": text}
    if kind == "contact":
        contact = dict(body["contact"])
        if "phone_number" not in contact:
            fail(400, "contact.phone_number is required")
        contact.setdefault("first_name", user.first_name)
        return {"contact": contact}
    if kind == "location":
        loc = body["location"]
        return {"location": {"latitude": float(loc["latitude"]), "longitude": float(loc["longitude"])}}
    content = _media(world, body, kind)
    if body.get("caption") and kind not in ("sticker", "video_note"):
        content["caption"] = str(body["caption"])
        commands = command_entities(content["caption"])
        if commands:
            content["caption_entities"] = commands
    return content


def _member_update(world: World, bot: BotAccount, user: User, blocked: bool) -> None:
    """Telegram tells the bot when a user blocks/unblocks it (my_chat_member)."""
    member = {"status": "member", "user": bot.user_api()}
    kicked = {"status": "kicked", "user": bot.user_api(), "until_date": 0}
    chat = world.chats[user.id]
    world.enqueue(bot, {"my_chat_member": {
        "chat": chat.to_api(), "from": user.to_api(), "date": world.now(),
        "old_chat_member": member if blocked else kicked,
        "new_chat_member": kicked if blocked else member,
    }})


def _set_blocked(world: World, user: User, blocked: bool, bot: BotAccount | None) -> None:
    """Block one bot (``bot``) or every bot (``None``), announcing real changes."""
    targets = [bot] if bot is not None else list(world.bots.values())
    before = {target.token: world.is_blocked(target, user.id) for target in targets}
    if bot is not None:
        (bot.blocked_by.add if blocked else bot.blocked_by.discard)(user.id)
    else:
        user.blocked = blocked
        if not blocked:
            for target in targets:
                target.blocked_by.discard(user.id)
    for target in targets:
        if before[target.token] != world.is_blocked(target, user.id):
            _member_update(world, target, user, blocked)


def _sender(world: World, body: dict[str, Any]) -> tuple[User, Chat]:
    user_id = int_of(body.get("user_id"), "user_id")
    user = world.users.get(user_id) or world.upsert_user(user_id)  # auto-create, tests stay short
    chat_id = int_of(body.get("chat_id", user_id), "chat_id")
    chat = world.chats.get(chat_id)
    if chat is None:
        fail(404, f"chat {chat_id} not found; create groups with POST /sandbox/groups")
    if chat.is_group:
        chat.members.add(user.id)
    return user, chat


async def send(request: web.Request) -> web.Response:
    world = world_of(request)
    body = await body_of(request)
    bot = bot_for(world, body.get("bot_token"))
    user, chat = _sender(world, body)
    content = _content(world, body, user)
    reply_to = None
    if body.get("reply_to_message_id") is not None:
        reply_to = chat.messages.get(int_of(body["reply_to_message_id"], "reply_to_message_id"))
        if reply_to is None:
            fail(400, "reply_to_message_id: no such message in this chat")
    if bot is not None and not chat.is_group and world.is_blocked(bot, user.id):
        _set_blocked(world, user, False, None)  # writing to a bot again means "Restart"
    if not chat.is_group:
        user.started = True  # any private message opens the conversation
    stored = world.add_message(chat, content, sender=user.to_api(), reply_to=reply_to)
    update_id, queued = world.enqueue(bot, {"message": stored.data})
    return reply({"update_id": update_id, "queued": queued, "message": stored.data})


async def press(request: web.Request) -> web.Response:
    world = world_of(request)
    body = await body_of(request)
    user, chat = _sender(world, body)
    data = body.get("callback_data", body.get("data"))
    if not isinstance(data, str):
        fail(400, "callback_data must be a string")
    message_id = int_of(body.get("message_id"), "message_id")
    stored = chat.messages.get(message_id)
    alive = stored is not None and not stored.deleted
    if not body.get("forge"):
        if not alive or stored is None:
            fail(400, f"message {message_id} not found in chat {chat.id}")
        if data not in callback_datas(stored.markup):
            fail(400, f"message {message_id} has no button with callback_data {data!r} (pass forge: true)")
    bot = bot_for(world, body.get("bot_token"))
    if stored is not None and stored.bot_id is not None and not body.get("bot_token"):
        bot = next((b for b in world.bots.values() if b.id == stored.bot_id), bot)
    if bot is None:
        fail(409, "no bot has talked to the sandbox yet; pass bot_token")
    query_id = world.unique_id()
    query: dict[str, Any] = {
        "id": query_id,
        "from": user.to_api(),
        "chat_instance": str(abs(chat.id) * 31 + bot.id),  # stable per (chat, bot), like Telegram
        "data": data,
        "message": stored.data if alive and stored is not None
        else {"chat": chat.to_api(), "message_id": message_id, "date": 0},  # InaccessibleMessage
    }
    bot.callbacks[query_id] = {"user_id": user.id, "chat_id": chat.id, "message_id": message_id,
                               "data": data, "answered": False}
    update_id, queued = world.enqueue(bot, {"callback_query": query})
    return reply({"update_id": update_id, "callback_query_id": query_id, "queued": queued})


async def block(request: web.Request) -> web.Response:
    world = world_of(request)
    body = await body_of(request)
    user_id = int_of(body.get("user_id"), "user_id")
    user = world.users.get(user_id) or world.upsert_user(user_id)
    blocked = bool(body.get("blocked", True))
    _set_blocked(world, user, blocked, bot_for(world, body["bot_token"]) if body.get("bot_token") else None)
    return reply({"user_id": user_id, "blocked": blocked})


async def raw_update(request: web.Request) -> web.Response:
    world = world_of(request)
    body = await body_of(request)
    update = body.get("update")
    if not isinstance(update, dict):
        fail(400, "update must be an object")
    wanted = update.get("update_id")
    payload = {k: v for k, v in update.items() if k != "update_id"}
    bot = bot_for(world, body.get("bot_token"))
    # force: a raw update is delivered whatever allowed_updates says — tests asked for it.
    update_id, queued = world.enqueue(bot, payload, None if wanted is None else int_of(wanted, "update_id"),
                                      force=True)
    return reply({"update_id": update_id, "queued": queued})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/sandbox/send", send)
    app.router.add_post("/sandbox/press", press)
    app.router.add_post("/sandbox/block", block)
    app.router.add_post("/sandbox/updates/raw", raw_update)


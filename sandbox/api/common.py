"""Helpers shared by the sending/editing methods."""

from __future__ import annotations

import mimetypes
from typing import Any

from .. import validate
from ..errors import ApiError, bad_request, forbidden
from ..files import StoredFile
from ..models import Chat, StoredMessage
from ..textutil import Entity
from .registry import Ctx


def chat_of(ctx: Ctx, field: str = "chat_id") -> Chat:
    raw = ctx.params.raw(field)
    if raw in (None, ""):
        raise bad_request(f"{field} is empty")
    try:
        chat = ctx.world.chats.get(int(raw))
    except (TypeError, ValueError):
        chat = None  # "@username" addresses public channels, which the sandbox has none of
    if chat is None:
        raise bad_request("chat not found")
    return chat


def writable_chat(ctx: Ctx, field: str = "chat_id") -> Chat:
    """A chat the bot may send to right now (403 if the user blocked the bot)."""
    chat = chat_of(ctx, field)
    if not chat.is_group:
        if ctx.world.is_blocked(ctx.bot, chat.id):
            raise forbidden("bot was blocked by the user")
        if chat.user is not None and not chat.user.started:
            raise forbidden("bot can't initiate conversation with a user")
    return chat


def live_message(chat: Chat, message_id: int | None, missing: str) -> StoredMessage:
    stored = chat.messages.get(message_id or 0)
    if stored is None or stored.deleted:
        raise bad_request(missing)
    return stored


def reply_target(ctx: Ctx, chat: Chat) -> StoredMessage | None:
    """Resolve ``reply_parameters`` / legacy ``reply_to_message_id``."""
    params = ctx.params
    spec = params.json("reply_parameters") or {}
    if not isinstance(spec, dict):
        raise bad_request("can't parse reply parameters JSON object")
    message_id = spec.get("message_id", params.integer("reply_to_message_id"))
    if message_id is None:
        return None
    allow = bool(spec.get("allow_sending_without_reply", params.flag("allow_sending_without_reply")))
    target_chat = chat
    if spec.get("chat_id") not in (None, chat.id):
        target_chat = ctx.world.chats.get(int(spec["chat_id"])) or chat
    stored = target_chat.messages.get(int(message_id))
    if stored is None or stored.deleted:
        if allow:
            return None
        raise bad_request("message to be replied not found")
    return stored


def markup(ctx: Ctx, *, inline_only: bool = False) -> dict[str, Any] | None:
    return validate.reply_markup(
        ctx.params.json("reply_markup", "reply keyboard markup"), inline_only=inline_only
    )


def caption(ctx: Ctx) -> dict[str, Any]:
    """``caption`` + ``caption_entities`` fields for a media message (maybe empty)."""
    params = ctx.params
    text, entities = validate.formatted(
        params.string("caption"), params.string("parse_mode"), params.json("caption_entities")
    )
    validate.caption(text)
    return text_fields(text, entities, "caption")


def text_fields(text: str, entities: list[Entity], field: str = "text") -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if text:
        fields[field] = text
        if entities:
            fields["entities" if field == "text" else "caption_entities"] = entities
    return fields


def charge(ctx: Ctx, chat: Chat, cost: int = 1) -> None:
    """Rate-limit a send (429 if over the limit) and count it."""
    ctx.world.limiter.check(ctx.bot.id, chat.id, chat.is_group, cost)
    ctx.world.stats.sends += cost


def deliver(
    ctx: Ctx,
    chat: Chat,
    content: dict[str, Any],
    *,
    reply_to: StoredMessage | None = None,
    keyboard: dict[str, Any] | None = None,
    cost: int = 1,
) -> StoredMessage:
    """Store a message sent by the bot (after charging the rate limiter)."""
    if cost:
        charge(ctx, chat, cost)
    if ctx.params.flag("protect_content"):
        content = {**content, "has_protected_content": True}
    return ctx.world.add_message(
        chat, content, sender=ctx.bot.user_api(), bot=ctx.bot, markup=keyboard, reply_to=reply_to,
        silent=ctx.params.flag("disable_notification"),
    )


def input_file(ctx: Ctx, field: str, kind: str, value: Any = None, **meta: Any) -> StoredFile:
    """An uploaded file, an existing ``file_id``, or a 400 (no internet for URLs)."""
    world, params = ctx.world, ctx.params
    if value is None:
        value = params.raw(field)
    upload = params.upload(value, field)
    if upload is not None:
        if len(upload.data) > world.upload_limit:
            raise ApiError(413, "Request Entity Too Large")
        if not upload.data:
            raise bad_request("file must be non-empty")
        mime = meta.pop("mime_type", None) or mimetypes.guess_type(upload.filename)[0]
        if mime is None and upload.content_type != "application/octet-stream":
            mime = upload.content_type  # aiohttp labels every aiogram upload octet-stream
        return world.files.add(kind, upload.data, file_name=upload.filename,
                               mime_type=mime or "application/octet-stream", **meta)
    if value in (None, ""):
        raise bad_request(f"there is no {kind} in the request")
    if not isinstance(value, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    stored = world.files.get(value)
    if stored is not None:
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        return stored
    if value.lower().startswith(("http://", "https://")):
        # The sandbox is offline by design; Telegram would fetch the URL.
        raise bad_request("failed to get HTTP URL content")
    raise bad_request("wrong file identifier/HTTP URL specified")

"""Text messages and their edits/deletes, forwards/copies, polls, contacts, locations."""

from __future__ import annotations

from typing import Any

from .. import validate
from ..errors import bad_request
from ..models import MEDIA_KINDS, StoredMessage
from .common import (
    caption, chat_of, deliver, live_message, markup, reply_target, text_fields, writable_chat,
)
from .registry import Ctx, method

# Fields that make up a message's *content* (what forward/copy carries over).
_CONTENT = (*MEDIA_KINDS, "text", "entities", "caption", "caption_entities", "contact", "location", "poll")


@method("sendMessage")
async def send_message(ctx: Ctx) -> dict[str, Any]:
    params = ctx.params
    chat = writable_chat(ctx)
    text, entities = validate.formatted(params.string("text"), params.string("parse_mode"), params.json("entities"))
    validate.message_text(text)
    keyboard = markup(ctx)
    reply_to = reply_target(ctx, chat)
    content = text_fields(text, entities)
    preview = params.json("link_preview_options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    return deliver(ctx, chat, content, reply_to=reply_to, keyboard=keyboard).data


def _editable(ctx: Ctx) -> StoredMessage:
    if ctx.params.has("inline_message_id"):
        raise bad_request("message to edit not found")  # inline mode is not simulated
    chat = chat_of(ctx)
    stored = live_message(chat, ctx.params.integer("message_id"), "message to edit not found")
    if stored.bot_id != ctx.bot.id:
        raise bad_request("message can't be edited")
    return stored


def _apply_edit(ctx: Ctx, stored: StoredMessage, changes: dict[str, Any], keyboard: dict[str, Any] | None,
                drop: tuple[str, ...]) -> dict[str, Any]:
    before = {k: stored.data.get(k) for k in (*changes, *drop, "reply_markup")}
    after = {**{k: None for k in drop}, **changes, "reply_markup": keyboard}
    if before == {k: after.get(k) for k in before}:
        raise bad_request(validate.NOT_MODIFIED)
    for key in drop:
        stored.data.pop(key, None)
    stored.data.update(changes)
    # Editing without reply_markup removes the inline keyboard, exactly as Telegram does.
    if keyboard is None:
        stored.data.pop("reply_markup", None)
    else:
        stored.data["reply_markup"] = keyboard
    stored.markup = keyboard
    stored.data["edit_date"] = ctx.world.now()
    stored.edited = True
    return stored.data


@method("editMessageText")
async def edit_message_text(ctx: Ctx) -> dict[str, Any]:
    params = ctx.params
    stored = _editable(ctx)
    if "text" not in stored.data:
        raise bad_request("there is no text in the message to edit")
    text, entities = validate.formatted(params.string("text"), params.string("parse_mode"), params.json("entities"))
    validate.message_text(text)
    keyboard = markup(ctx, inline_only=True)
    changes = text_fields(text, entities)
    return _apply_edit(ctx, stored, changes, keyboard, drop=("entities",))


@method("editMessageCaption")
async def edit_message_caption(ctx: Ctx) -> dict[str, Any]:
    stored = _editable(ctx)
    if "text" in stored.data:
        raise bad_request("there is no caption in the message to edit")
    keyboard = markup(ctx, inline_only=True)
    return _apply_edit(ctx, stored, caption(ctx), keyboard, drop=("caption", "caption_entities"))


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(ctx: Ctx) -> dict[str, Any]:
    stored = _editable(ctx)
    return _apply_edit(ctx, stored, {}, markup(ctx, inline_only=True), drop=())


@method("deleteMessage")
async def delete_message(ctx: Ctx) -> bool:
    chat = chat_of(ctx)
    stored = live_message(chat, ctx.params.integer("message_id"), "message to delete not found")
    stored.deleted = True
    return True


@method("deleteMessages")
async def delete_messages(ctx: Ctx) -> bool:
    chat = chat_of(ctx)
    ids = ctx.params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    for message_id in ids:
        stored = chat.messages.get(int(message_id))
        if stored is not None:
            stored.deleted = True  # missing ones are skipped, as documented
    return True


def _source(ctx: Ctx, missing: str) -> StoredMessage:
    source_chat = chat_of(ctx, "from_chat_id")
    return live_message(source_chat, ctx.params.integer("message_id"), missing)


@method("forwardMessage")
async def forward_message(ctx: Ctx) -> dict[str, Any]:
    chat = writable_chat(ctx)
    source = _source(ctx, "message to forward not found")
    content = {k: v for k, v in source.data.items() if k in _CONTENT}
    content["forward_origin"] = {"type": "user", "sender_user": source.data["from"], "date": source.data["date"]}
    return deliver(ctx, chat, content).data


@method("copyMessage")
async def copy_message(ctx: Ctx) -> dict[str, Any]:
    chat = writable_chat(ctx)
    source = _source(ctx, "message to copy not found")
    if "poll" in source.data and source.data["poll"].get("type") == "quiz":
        raise bad_request("quiz polls can't be copied")  # simplification of Telegram's rules
    content = {k: v for k, v in source.data.items() if k in _CONTENT}
    if ctx.params.has("caption") and "text" not in content:
        content = {k: v for k, v in content.items() if k not in ("caption", "caption_entities")}
        content.update(caption(ctx))
    stored = deliver(ctx, chat, content, reply_to=reply_target(ctx, chat), keyboard=markup(ctx))
    return {"message_id": stored.message_id}


@method("sendLocation")
async def send_location(ctx: Ctx) -> dict[str, Any]:
    chat = writable_chat(ctx)
    latitude, longitude = ctx.params.number("latitude"), ctx.params.number("longitude")
    if latitude is None or longitude is None or not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
        raise bad_request("wrong latitude/longitude specified")
    content = {"location": {"latitude": latitude, "longitude": longitude}}
    return deliver(ctx, chat, content, reply_to=reply_target(ctx, chat), keyboard=markup(ctx)).data


@method("sendContact")
async def send_contact(ctx: Ctx) -> dict[str, Any]:
    chat = writable_chat(ctx)
    phone, first_name = ctx.params.string("phone_number"), ctx.params.string("first_name")
    if not phone:
        raise bad_request("phone number is empty")  # wording approximated
    if not first_name:
        raise bad_request("first name is empty")
    contact = {"phone_number": phone, "first_name": first_name}
    if ctx.params.has("last_name"):
        contact["last_name"] = ctx.params.string("last_name") or ""
    return deliver(ctx, chat, {"contact": contact}, reply_to=reply_target(ctx, chat), keyboard=markup(ctx)).data


def _poll(ctx: Ctx) -> dict[str, Any]:
    params = ctx.params
    question = (params.string("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    if len(question) > 300:
        raise bad_request("poll question length must not exceed 300")
    options = params.json("options")
    if not isinstance(options, list):
        raise bad_request("can't parse options JSON object")
    texts: list[str] = [str(o.get("text") or "") if isinstance(o, dict) else str(o) for o in options]
    if len(texts) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(texts) > 12:
        raise bad_request("poll can't have more than 12 options")
    if not all(1 <= len(t.strip()) <= 100 for t in texts):
        raise bad_request("poll options length must not exceed 100")
    kind = params.string("type", "regular") or "regular"
    if kind not in ("regular", "quiz"):
        raise bad_request("wrong poll type specified")
    poll: dict[str, Any] = {
        "id": ctx.world.unique_id(),
        "question": question,
        "options": [{"persistent_id": str(i), "text": t.strip(), "voter_count": 0} for i, t in enumerate(texts)],
        "total_voter_count": 0,
        "is_closed": params.flag("is_closed"),
        "is_anonymous": params.flag("is_anonymous", True),
        "type": kind,
        "allows_multiple_answers": params.flag("allows_multiple_answers"),
        "allows_revoting": params.flag("allows_revoting", kind == "regular"),
        "members_only": False,
    }
    if kind == "quiz":
        correct = params.integer("correct_option_id")
        if correct is None:
            ids = params.json("correct_option_ids")
            correct = ids[0] if isinstance(ids, list) and ids else None
        if correct is None or not 0 <= int(correct) < len(texts):
            raise bad_request("wrong correct option ID specified")
        poll["correct_option_id"] = int(correct)
        if params.has("explanation"):
            poll["explanation"] = params.string("explanation")
    return poll


@method("sendPoll")
async def send_poll(ctx: Ctx) -> dict[str, Any]:
    chat = writable_chat(ctx)
    content = {"poll": _poll(ctx)}
    return deliver(ctx, chat, content, reply_to=reply_target(ctx, chat), keyboard=markup(ctx)).data

"""Chat-level and bot-profile methods: actions, getChat, commands, menu, callbacks."""

from __future__ import annotations

import json
from typing import Any

from .. import validate
from ..errors import bad_request
from .common import chat_of, writable_chat
from .registry import Ctx, method

CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


@method("sendChatAction")
async def send_chat_action(ctx: Ctx) -> bool:
    chat = writable_chat(ctx)
    action = ctx.params.string("action") or ""
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.actions.append({"action": action, "bot_id": ctx.bot.id, "date": ctx.world.now()})
    return True


@method("getChat")
async def get_chat(ctx: Ctx) -> dict[str, Any]:
    chat = chat_of(ctx)
    return {
        **chat.to_api(),
        # Required by the current ChatFullInfo type; values of a plain chat.
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
            "premium_subscription": False, "gifts_from_channels": False,
        },
    }


@method("getChatMember")
async def get_chat_member(ctx: Ctx) -> dict[str, Any]:
    chat = chat_of(ctx)
    user_id = ctx.params.integer("user_id")
    if user_id == ctx.bot.id:
        return {"status": "member", "user": ctx.bot.user_api()}
    user = ctx.world.users.get(user_id or 0)
    if user is None:
        raise bad_request("user not found")
    status = "member" if user.id in chat.members else "left"
    if not chat.is_group and ctx.world.is_blocked(ctx.bot, user.id):
        status = "kicked"
    member: dict[str, Any] = {"status": status, "user": user.to_api()}
    if status == "kicked":
        member["until_date"] = 0
    return member


def _scope_key(ctx: Ctx) -> tuple[str, str]:
    scope = ctx.params.json("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), ctx.params.string("language_code", "") or ""


@method("setMyCommands")
async def set_my_commands(ctx: Ctx) -> bool:
    commands = validate.bot_commands(ctx.params.json("commands"))
    key = _scope_key(ctx)
    if commands:
        ctx.bot.commands[key] = commands
    else:
        ctx.bot.commands.pop(key, None)
    return True


@method("getMyCommands")
async def get_my_commands(ctx: Ctx) -> list[dict[str, str]]:
    return ctx.bot.commands.get(_scope_key(ctx), [])


@method("deleteMyCommands")
async def delete_my_commands(ctx: Ctx) -> bool:
    ctx.bot.commands.pop(_scope_key(ctx), None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(ctx: Ctx) -> bool:
    button = ctx.params.json("menu_button") or {"type": "default"}
    ctx.bot.menu_buttons[ctx.params.integer("chat_id")] = button
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(ctx: Ctx) -> dict[str, Any]:
    buttons = ctx.bot.menu_buttons
    chat_id = ctx.params.integer("chat_id")
    return buttons.get(chat_id) or buttons.get(None) or {"type": "default"}


# setMyName/Description/ShortDescription just remember the value for get*.
_PROFILE = {"Name": "name", "Description": "description", "ShortDescription": "short_description"}


@method(*(f"setMy{suffix}" for suffix in _PROFILE))
async def set_profile(ctx: Ctx) -> bool:
    field = _PROFILE[ctx.method[len("setMy"):]]
    ctx.bot.properties[(field, ctx.params.string("language_code") or "")] = ctx.params.string(field, "")
    return True


@method(*(f"getMy{suffix}" for suffix in _PROFILE))
async def get_profile(ctx: Ctx) -> dict[str, str]:
    field = _PROFILE[ctx.method[len("getMy"):]]
    value = ctx.bot.properties.get((field, ctx.params.string("language_code") or ""))
    if value is None and field == "name":
        value = ctx.bot.first_name
    return {field: value or ""}


@method("setMyDefaultAdministratorRights")
async def accept(ctx: Ctx) -> bool:
    return True


@method("answerCallbackQuery")
async def answer_callback_query(ctx: Ctx) -> bool:
    query_id = ctx.params.string("callback_query_id") or ""
    record = ctx.bot.callbacks.get(query_id)
    if record is None or record["answered"]:
        raise bad_request(QUERY_TOO_OLD)
    text = ctx.params.string("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record["answered"] = True
    answer = {
        "callback_query_id": query_id,
        "user_id": record["user_id"],
        "message_id": record["message_id"],
        "data": record["data"],
        "text": text,
        "show_alert": ctx.params.flag("show_alert"),
        "url": ctx.params.string("url"),
        "cache_time": ctx.params.integer("cache_time", 0),
        "date": ctx.world.now(),
    }
    chat = ctx.world.chats.get(record["chat_id"])
    if chat is not None:
        chat.callback_answers.append(answer)
    return True

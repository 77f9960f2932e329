"""Media sends (photo, document, voice…), albums, and getFile."""

from __future__ import annotations

from typing import Any

from .. import validate
from ..errors import bad_request
from ..files import media_object
from ..params import Params
from .common import caption, charge, deliver, input_file, markup, reply_target, writable_chat
from .registry import Ctx, method

# method → (field / file kind, extra numeric params stored with the file)
_SENDERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "sendPhoto": ("photo", ()),
    "sendDocument": ("document", ()),
    "sendVoice": ("voice", ("duration",)),
    "sendAudio": ("audio", ("duration",)),
    "sendVideo": ("video", ("duration", "width", "height")),
    "sendAnimation": ("animation", ("duration", "width", "height")),
    "sendVideoNote": ("video_note", ("duration", "length")),
    "sendSticker": ("sticker", ()),
}


def _meta(params: Params, names: tuple[str, ...]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for name in names:
        value = params.integer(name)
        if value is not None:
            meta["width" if name == "length" else name] = value
    return meta


@method(*_SENDERS)
async def send_media(ctx: Ctx) -> dict[str, Any]:
    kind, extra = _SENDERS[ctx.method]
    chat = writable_chat(ctx)
    content = {} if kind in ("sticker", "video_note") else caption(ctx)
    keyboard, reply_to = markup(ctx), reply_target(ctx, chat)
    meta = _meta(ctx.params, extra)
    if kind == "sticker" and ctx.params.has("emoji"):
        meta["emoji"] = ctx.params.string("emoji")
    stored = input_file(ctx, kind, kind, **meta)
    content[kind] = media_object(stored)
    return deliver(ctx, chat, content, reply_to=reply_to, keyboard=keyboard).data


_ALBUM_KINDS = {"photo", "video", "document", "audio"}


@method("sendMediaGroup")
async def send_media_group(ctx: Ctx) -> list[dict[str, Any]]:
    chat = writable_chat(ctx)
    media = ctx.params.json("media", "media")
    if not isinstance(media, list) or not all(isinstance(m, dict) for m in media):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the album: must be 2-10")
    kinds = {m.get("type") for m in media}
    if not kinds <= _ALBUM_KINDS:
        raise bad_request(f"unsupported media type in the album: {sorted(map(str, kinds - _ALBUM_KINDS))}")
    if len(kinds) > 1 and kinds & {"document", "audio"}:
        raise bad_request(f"{'document' if 'document' in kinds else 'audio'} can't be mixed with other media types")
    reply_to = reply_target(ctx, chat)
    items: list[dict[str, Any]] = []
    for item in media:
        text, entities = validate.formatted(item.get("caption"), item.get("parse_mode"), item.get("caption_entities"))
        validate.caption(text)
        stored = input_file(ctx, "media", str(item["type"]), item.get("media"))
        content: dict[str, Any] = {item["type"]: media_object(stored)}
        if text:
            content["caption"] = text
            if entities:
                content["caption_entities"] = entities
        items.append(content)
    charge(ctx, chat, len(items))  # one send per item, charged up front as a whole
    group_id = ctx.world.unique_id()
    return [
        deliver(ctx, chat, {**content, "media_group_id": group_id}, reply_to=reply_to, cost=0).data
        for content in items
    ]


@method("getFile")
async def get_file(ctx: Ctx) -> dict[str, Any]:
    file_id = ctx.params.string("file_id") or ""
    stored = ctx.world.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.size > ctx.world.download_limit:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }

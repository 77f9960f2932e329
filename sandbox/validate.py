"""Telegram-like request checks with Telegram's error wording where known.

Everything here raises :class:`ApiError` (400 unless stated) and returns the
normalised value, so handlers read as "validate, then store".
"""

from __future__ import annotations

import re
from typing import Any

from .errors import bad_request
from .htmltext import FormatError, parse_html
from .markdown import parse_markdown, parse_markdown_v2
from .textutil import Entity, clip_entities, trim

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64  # bytes, UTF-8
MAX_BUTTONS = 100

_INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)
_ENTITY_TYPES = frozenset({
    "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number", "bold",
    "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote",
    "code", "pre", "text_link", "text_mention", "custom_emoji", "date_time",
})
_URL_SCHEMES = ("http://", "https://", "tg://", "ton://")
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def formatted(text: str | None, parse_mode: str | None, entities: Any) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` or explicit ``entities`` (which win, as in Telegram), then trim."""
    text = text or ""
    if entities is not None:
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise bad_request("can't parse entities JSON object")
        for entity in entities:
            if entity.get("type") not in _ENTITY_TYPES:
                raise bad_request(f"can't parse entities: unsupported entity type {entity.get('type')!r}")
        return trim(text, clip_entities(text, entities))
    mode = (parse_mode or "").lower()
    try:
        if mode == "":
            return trim(text, [])
        if mode == "html":
            return trim(*parse_html(text))
        if mode == "markdownv2":
            return trim(*parse_markdown_v2(text))
        if mode == "markdown":
            return trim(*parse_markdown(text))
    except FormatError as exc:
        raise bad_request(f"can't parse entities: {exc}") from None
    raise bad_request("unsupported parse_mode")


def message_text(text: str) -> None:
    if not text:
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")


def caption(text: str) -> None:
    if len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request("can't parse inline keyboard button: Field \"text\" must be of type String")
    actions = [name for name in _INLINE_ACTIONS if button.get(name) is not None]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # Telegram silently picks one; the sandbox refuses, since it is always a bug.
        raise bad_request(
            f"can't parse inline keyboard button: exactly one of the optional fields must be used, got {actions}"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_LIMIT:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions:
        url = button["url"]
        if not isinstance(url, str) or not url.lower().startswith(_URL_SCHEMES):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
    return button


def _keyboard_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        button = {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str) or not button["text"]:
        raise bad_request("can't parse keyboard button: Text must be non-empty")
    return button


def _rows(markup: dict[str, Any], key: str) -> list[list[Any]]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" of the {("Inline" if key.startswith("inline") else "Reply")}'
                          "KeyboardMarkup should be an Array of Arrays")
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("REPLY_MARKUP_TOO_LONG")
    return rows


def reply_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate and normalise any ``reply_markup`` (string buttons become objects)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = _rows(markup, "inline_keyboard")
        return {**markup, "inline_keyboard": [[_inline_button(b) for b in row] for row in rows]}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in markup:
        rows = _rows(markup, "keyboard")
        return {**markup, "keyboard": [[_keyboard_button(b) for b in row] for row in rows]}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return markup
    raise bad_request("can't parse reply keyboard markup JSON object")


def callback_datas(markup: dict[str, Any] | None) -> set[str]:
    """All callback_data values of an inline keyboard (for /sandbox/press)."""
    if not markup or "inline_keyboard" not in markup:
        return set()
    return {b["callback_data"] for row in markup["inline_keyboard"] for b in row if "callback_data" in b}


_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")


def bot_commands(commands: Any) -> list[dict[str, str]]:
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands")
    result = []
    for item in commands:
        if not isinstance(item, dict) or not _COMMAND.match(str(item.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        description = str(item.get("description", ""))
        if not 1 <= len(description) <= 256:
            raise bad_request("command description must be 1-256 characters long")
        result.append({"command": str(item["command"]), "description": description})
    return result

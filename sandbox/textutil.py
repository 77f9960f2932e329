"""Text helpers shared by the parsers: UTF-16 offsets, trimming, auto-entities.

Telegram measures entity offsets/lengths in UTF-16 code units (an emoji outside
the BMP counts as 2), while length limits count Unicode characters.
"""

from __future__ import annotations

import re
from typing import Any

Entity = dict[str, Any]

# Characters Telegram trims from both ends of a message text / caption.
_TRIM = " \t\n\r\v\f\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"

# "/cmd" or "/cmd@botname" at the start or after whitespace, like the clients do.
_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def sort_entities(entities: list[Entity]) -> list[Entity]:
    # Telegram orders by offset, outer (longer) entities first.
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def trim(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Strip surrounding whitespace and shift/clip entities like Telegram does."""
    stripped_left = text.lstrip(_TRIM)
    shift = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    total = utf16_len(result)
    fixed: list[Entity] = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            fixed.append({**entity, "offset": start, "length": end - start})
    return result, sort_entities(fixed)


def clip_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Drop entities outside the text; Telegram silently fixes explicit ones."""
    total = utf16_len(text)
    fixed: list[Entity] = []
    for entity in entities:
        offset, length = int(entity.get("offset", -1)), int(entity.get("length", 0))
        if offset < 0 or length <= 0 or offset >= total:
            continue
        fixed.append({**entity, "offset": offset, "length": min(length, total - offset)})
    return sort_entities(fixed)


def command_entities(text: str) -> list[Entity]:
    """bot_command entities a Telegram client attaches to user messages."""
    entities: list[Entity] = []
    for match in _BOT_COMMAND.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group()),
            }
        )
    return entities

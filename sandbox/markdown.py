"""``parse_mode=MarkdownV2`` and legacy ``Markdown`` → text + entities.

Follows tdlib's parsers closely enough that the classic production failure —
an unescaped reserved character such as ``.`` or ``-`` in MarkdownV2 — fails
here with the same wording. Expandable block quotes (``**>``) are not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass

from .htmltext import FormatError
from .textutil import Entity, sort_entities, utf16_len

_RESERVED = "_*[]()~`>#+-=|{}.!"
_SPACE = " \t\n\r\v\f"
# tdlib prints entity types by their internal names in "Can't find end of …".
_TD_NAMES = {
    "bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough",
    "spoiler": "Spoiler", "code": "Code", "pre": "Pre", "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


@dataclass
class _Open:
    type: str
    offset: int
    byte_offset: int
    chars: int
    language: str = ""


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _reserved_error(char: str) -> FormatError:
    return FormatError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")


class _V2:
    def __init__(self, src: str) -> None:
        self.src = src
        self.out: list[str] = []
        self.offset = 0
        self.chars = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []
        self.quote_start: int | None = None

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)
        self.chars += len(text)

    def char(self, i: int) -> str:
        return self.src[i] if i < len(self.src) else ""

    def ends_top(self, i: int) -> bool:
        c, top = self.src[i], self.stack[-1].type
        nxt = self.char(i + 1)
        return {
            "bold": c == "*",
            "italic": c == "_" and nxt != "_",
            "code": c == "`",
            "pre": c == "`" and self.src.startswith("```", i),
            "text_link": c == "]",
            "custom_emoji": c == "]",
            "underline": c == "_" and nxt == "_",
            "strikethrough": c == "~",
            "spoiler": c == "|" and nxt == "|",
        }[top]

    def read_url(self, i: int) -> tuple[str, int]:
        """``i`` points at '('; returns the unescaped URL and the index of ')'."""
        begin, url = i + 1, []
        i += 1
        while i < len(self.src) and self.src[i] != ")":
            if self.src[i] == "\\" and 0 < ord(self.char(i + 1) or "\0") <= 126:
                url.append(self.src[i + 1])
                i += 2
                continue
            url.append(self.src[i])
            i += 1
        if i >= len(self.src):
            raise FormatError(f"Can't find end of a URL at byte offset {_byte_offset(self.src, begin)}")
        return "".join(url), i

    def open_entity(self, i: int) -> int:
        src, c = self.src, self.src[i]
        begin, language = i, ""
        if c == "_" and self.char(i + 1) == "_":
            kind, i = "underline", i + 1
        elif c in "_*~":
            kind = {"_": "italic", "*": "bold", "~": "strikethrough"}[c]
        elif c == "|" and self.char(i + 1) == "|":
            kind, i = "spoiler", i + 1
        elif c == "[":
            kind = "text_link"
        elif c == "!" and self.char(i + 1) == "[":
            kind, i = "custom_emoji", i + 1
        elif c == "`" and src.startswith("```", i):
            kind, i = "pre", i + 3
            end = i
            while end < len(src) and src[end] not in _SPACE and src[end] != "`":
                end += 1
            if end != i and end < len(src) and src[end] != "`":
                language, i = src[i:end], end
            if self.char(i) in ("\n", "\r"):  # one leading newline is not part of the code
                i += 2 if self.char(i + 1) in ("\n", "\r") and self.char(i + 1) != self.char(i) else 1
            i -= 1
        elif c == "`":
            kind = "code"
        else:
            raise _reserved_error(c)
        self.stack.append(_Open(kind, self.offset, _byte_offset(src, begin), self.chars, language))
        return i

    def close_entity(self, i: int) -> int:
        opened = self.stack.pop()
        entity: Entity = {"type": opened.type, "offset": opened.offset, "length": self.offset - opened.offset}
        skip = entity["length"] == 0
        if opened.type in ("underline", "spoiler"):
            i += 1
        elif opened.type == "pre":
            i += 2
            if opened.language:
                entity["language"] = opened.language
        elif opened.type == "text_link":
            if self.char(i + 1) == "(":
                url, i = self.read_url(i + 1)
            else:
                url = "".join(self.out)[opened.chars :]
            entity["url"] = url
            skip = skip or not url
        elif opened.type == "custom_emoji":
            if self.char(i + 1) != "(":
                raise FormatError("Custom emoji entity must contain a tg://emoji URL")
            url, i = self.read_url(i + 1)
            prefix = "tg://emoji?id="
            if not url.startswith(prefix) or not url[len(prefix) :].isdigit():
                raise FormatError("Custom emoji URL must have an emoji identifier")
            entity["custom_emoji_id"] = url[len(prefix) :]
        if not skip:
            self.entities.append(entity)
        return i

    def close_quote(self) -> None:
        if self.quote_start is not None and self.offset > self.quote_start:
            self.entities.append(
                {"type": "blockquote", "offset": self.quote_start, "length": self.offset - self.quote_start}
            )
        self.quote_start = None

    def run(self) -> tuple[str, list[Entity]]:
        src, i = self.src, 0
        while i < len(src):
            c = src[i]
            if c == "\\" and 0 < ord(self.char(i + 1) or "\0") <= 126:
                self.emit(src[i + 1])
                i += 2
                continue
            in_code = bool(self.stack) and self.stack[-1].type in ("code", "pre")
            at_line_start = i == 0 or src[i - 1] == "\n"
            if c == ">" and at_line_start and not in_code:
                if self.quote_start is None:
                    self.quote_start = self.offset
                i += 1
                continue
            if c == "\n" and self.quote_start is not None and self.char(i + 1) != ">" and not in_code:
                self.close_quote()
            reserved = "`" if in_code else _RESERVED
            if c not in reserved:
                self.emit(c)
                i += 1
                continue
            if self.stack and self.ends_top(i):
                i = self.close_entity(i)
            else:
                i = self.open_entity(i)
            i += 1
        if self.stack:
            opened = self.stack[-1]
            raise FormatError(
                f"Can't find end of {_TD_NAMES[opened.type]} entity at byte offset {opened.byte_offset}"
            )
        self.close_quote()
        return "".join(self.out), sort_entities(self.entities)


def parse_markdown_v2(src: str) -> tuple[str, list[Entity]]:
    return _V2(src).run()


def parse_markdown(src: str) -> tuple[str, list[Entity]]:
    """Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url), no nesting."""
    out: list[str] = []
    entities: list[Entity] = []
    offset, i = 0, 0
    while i < len(src):
        c = src[i]
        if c == "\\" and i + 1 < len(src) and src[i + 1] in "_*`[":
            out.append(src[i + 1])
            offset += 1
            i += 2
            continue
        if c not in "_*`[":
            out.append(c)
            offset += utf16_len(c)
            i += 1
            continue
        begin, end_char, is_pre, language = i, ("]" if c == "[" else c), False, ""
        i += 1
        if c == "`" and src.startswith("``", i):
            i, is_pre = i + 2, True
            end = i
            while end < len(src) and src[end] not in _SPACE and src[end] != "`":
                end += 1
            if end != i and end < len(src) and src[end] != "`":
                language, i = src[i:end], end
            if i < len(src) and src[i] == "\n":
                i += 1
        start, body = offset, []
        while i < len(src) and not (src.startswith("```", i) if is_pre else src[i] == end_char):
            body.append(src[i])
            i += 1
        if i >= len(src):
            raise FormatError(f"Can't find end of the entity starting at byte offset {_byte_offset(src, begin)}")
        text = "".join(body)
        out.append(text)
        offset += utf16_len(text)
        if is_pre:
            i += 2
        entity: Entity | None = None
        if offset > start:
            kind = {"_": "italic", "*": "bold", "`": "pre" if is_pre else "code", "[": "text_link"}[c]
            entity = {"type": kind, "offset": start, "length": offset - start}
            if language:
                entity["language"] = language
        if c == "[":
            url = text
            if i + 1 < len(src) and src[i + 1] == "(":
                close = src.find(")", i + 2)
                if close < 0:
                    raise FormatError(
                        f"Can't find end of a URL at byte offset {_byte_offset(src, i + 2)}"
                    )
                url, i = src[i + 2 : close], close
            if entity is not None:
                entity["url"] = url
        if entity is not None:
            entities.append(entity)
        i += 1
    return "".join(out), sort_entities(entities)

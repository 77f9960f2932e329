"""Telegram's ``parse_mode=HTML`` → plain text + entities (UTF-16 offsets).

Modelled on tdlib's ``parse_html`` so error texts match what production says
(``Unsupported start tag "div" at byte offset 0``…). Deliberately stricter in
one place, as the brief asks: an unknown *named* entity such as ``&nbsp;`` is
rejected, while Telegram would silently print it literally — that is always a
bug in the sender, and the sandbox exists to catch those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .textutil import Entity, sort_entities, utf16_len


class FormatError(ValueError):
    """Reason text goes after ``Bad Request: can't parse entities: ``."""


_TYPES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code", "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\n\r\v\f"
_PLAIN = re.compile(r"[^<&]+")
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.\-]*")


@dataclass
class _Open:
    tag: str
    argument: str
    offset: int  # UTF-16 offset in the output where the tag opened
    chars: int  # the same position in characters (to slice the link text)
    expandable: bool


class _Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.tag_begin = 0  # where the start tag being parsed began (for errors)
        self.out: list[str] = []
        self.offset = 0
        self.chars = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []

    # -- helpers -----------------------------------------------------------
    def byte_offset(self, index: int) -> int:
        # Telegram reports UTF-8 byte offsets into the original text.
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.offset += utf16_len(text)
        self.chars += len(text)

    def at_end(self) -> bool:
        return self.pos >= len(self.src)

    def skip_spaces(self) -> None:
        while not self.at_end() and self.src[self.pos] in _SPACE:
            self.pos += 1

    def decode_entity(self, at: int) -> tuple[str | None, int]:
        """Decode ``&...;`` at ``at``; (None, at) means "a literal ampersand"."""
        src, j = self.src, at + 1
        if src.startswith("#", j):
            j += 1
            is_hex = src.startswith(("x", "X"), j)
            j += is_hex
            digits = re.match(r"[0-9A-Fa-f]+" if is_hex else r"[0-9]+", src[j:])
            if not digits:
                return None, at
            code = int(digits.group(), 16 if is_hex else 10)
            j += len(digits.group())
            if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                return None, at
            char = chr(code)
        else:
            name = re.match(r"[A-Za-z]*", src[j:]).group()  # type: ignore[union-attr]
            j += len(name)
            if name not in _NAMED:
                if name and src.startswith(";", j):
                    raise FormatError(
                        f'Unsupported HTML entity "&{name};" at byte offset {self.byte_offset(at)}'
                    )
                return None, at
            char = _NAMED[name]
        if src.startswith(";", j):
            j += 1
        return char, j

    # -- tags --------------------------------------------------------------
    def start_tag(self) -> None:
        src, begin = self.src, self.pos
        self.tag_begin = begin
        unclosed = FormatError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        j = begin + 1
        while j < len(src) and src[j] not in _SPACE and src[j] != ">":
            j += 1
        if j >= len(src):
            raise unclosed
        tag = src[begin + 1 : j].lower()
        if tag not in _TYPES:
            raise FormatError(f'Unsupported start tag "{tag}" at byte offset {self.byte_offset(begin)}')
        self.pos, argument, expandable = j, "", False
        while True:
            self.skip_spaces()
            if self.at_end():
                raise unclosed
            if src[self.pos] == ">":
                break
            name_begin = self.pos
            while not self.at_end() and src[self.pos] not in _SPACE and src[self.pos] not in "=>":
                self.pos += 1
            attr = src[name_begin : self.pos].lower()
            if not attr:
                raise FormatError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}'
                )
            self.skip_spaces()
            if self.at_end():
                raise unclosed
            if src[self.pos] != "=":
                if tag == "blockquote" and attr == "expandable":
                    expandable = True
                    continue
                raise FormatError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {self.byte_offset(begin)}"
                )
            self.pos += 1
            self.skip_spaces()
            if self.at_end():
                raise unclosed
            value = self.attribute_value()
            if tag == "a" and attr == "href":
                argument = value
            elif tag == "code" and attr == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and attr == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and attr == "emoji-id":
                argument = value
            elif tag == "blockquote" and attr == "expandable":
                expandable = True
        self.pos += 1  # the '>'
        if tag == "span" and argument != "spoiler":
            raise FormatError(f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}')
        if tag == "tg-emoji" and not argument.isdigit():
            raise FormatError("Invalid custom emoji identifier specified")
        self.stack.append(_Open(tag, argument, self.offset, self.chars, expandable))

    def attribute_value(self) -> str:
        src = self.src
        if src[self.pos] not in "'\"":
            token_begin = self.pos
            token = _NAME_TOKEN.match(src, self.pos).group()  # type: ignore[union-attr]
            self.pos += len(token)
            if self.at_end():
                raise FormatError(f"Unclosed start tag at byte offset {self.byte_offset(self.tag_begin)}")
            if src[self.pos] not in _SPACE and src[self.pos] != ">":
                raise FormatError(f"Unexpected end of name token at byte offset {self.byte_offset(token_begin)}")
            return token.lower()
        quote, chars = src[self.pos], []
        self.pos += 1
        while not self.at_end() and src[self.pos] != quote:
            if src[self.pos] == "&":
                char, after = self.decode_entity(self.pos)
                if char is not None:
                    chars.append(char)
                    self.pos = after
                    continue
            chars.append(src[self.pos])
            self.pos += 1
        if self.at_end():
            raise FormatError(f"Unclosed start tag at byte offset {self.byte_offset(self.tag_begin)}")
        self.pos += 1
        return "".join(chars)

    def end_tag(self) -> None:
        src, begin = self.src, self.pos
        if not self.stack:
            raise FormatError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        j = begin + 2
        while j < len(src) and src[j] not in _SPACE and src[j] != ">":
            j += 1
        name = src[begin + 2 : j].lower()
        while j < len(src) and src[j] in _SPACE:
            j += 1
        if j >= len(src) or src[j] != ">":
            raise FormatError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos = j + 1
        opened = self.stack.pop()
        if name and name != opened.tag:
            raise FormatError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{opened.tag}>", found "</{name}>"'
            )
        if self.offset > opened.offset:
            self.close_entity(opened)

    def close_entity(self, opened: _Open) -> None:
        start, length = opened.offset, self.offset - opened.offset
        entity: Entity = {"type": _TYPES[opened.tag], "offset": start, "length": length}
        if opened.tag == "a":
            # An empty href makes the link text itself the URL, as in tdlib.
            entity["url"] = opened.argument or "".join(self.out)[opened.chars :]
        elif opened.tag == "code":
            if opened.argument:
                entity["language"] = opened.argument  # consumed by an enclosing <pre>
        elif opened.tag == "pre":
            last = self.entities[-1] if self.entities else None
            if last and last["type"] == "code" and last["offset"] == start and last["length"] == length:
                # <pre><code class="language-x"> is one pre entity with a language.
                self.entities.pop()
                if "language" in last:
                    entity["language"] = last["language"]
        elif opened.tag == "blockquote" and opened.expandable:
            entity["type"] = "expandable_blockquote"
        elif opened.tag == "tg-emoji":
            entity["custom_emoji_id"] = opened.argument
        self.entities.append(entity)

    # -- main loop ---------------------------------------------------------
    def run(self) -> tuple[str, list[Entity]]:
        src = self.src
        while not self.at_end():
            plain = _PLAIN.match(src, self.pos)
            if plain:
                self.emit(plain.group())
                self.pos = plain.end()
            elif src[self.pos] == "&":
                char, after = self.decode_entity(self.pos)
                self.emit("&" if char is None else char)
                self.pos = self.pos + 1 if char is None else after
            elif src.startswith("</", self.pos):
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise FormatError(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return "".join(self.out), sort_entities(self.entities)


def parse_html(src: str) -> tuple[str, list[Entity]]:
    """Raise :class:`FormatError` on malformed markup, like Telegram."""
    return _Parser(src).run()

"""HTML / MarkdownV2 parsing: accepted markup becomes entities, bad markup is a 400."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import MessageEntity

from sandbox_helpers import USER

pytestmark = pytest.mark.asyncio


async def test_html_becomes_text_and_utf16_entities(bot: Bot) -> None:
    html = (
        '😀 <b>Жирный</b> <i>курсив</i> <a href="https://example.org/?a=1&amp;b=2">ссылка</a> '
        '<tg-spoiler>спойлер</tg-spoiler> <pre><code class="language-python">print(1)</code></pre> '
        "&lt;&amp;&gt;&quot; &#8364;"
    )
    msg = await bot.send_message(USER, html, parse_mode="HTML")
    assert msg.text == '😀 Жирный курсив ссылка спойлер print(1) <&>" €'
    types = [(e.type, e.offset, e.length) for e in msg.entities or []]
    # The emoji is two UTF-16 code units, so "Жирный" starts at offset 3.
    assert types[0] == ("bold", 3, 6)
    assert ("italic", 10, 6) in types and ("spoiler", 24, 7) in types
    link = next(e for e in msg.entities or [] if e.type == "text_link")
    assert link.url == "https://example.org/?a=1&b=2"
    pre = next(e for e in msg.entities or [] if e.type == "pre")
    assert pre.language == "python"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<b>не закрыт", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<div>блок</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("цена < 100", 'Unsupported start tag "" at byte offset 9'),  # Cyrillic = 2 bytes each
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("&nbsp;пробел", 'Unsupported HTML entity "&nbsp;"'),
    ],
)
async def test_bad_html_is_rejected(bot: Bot, html: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as info:
        await bot.send_message(USER, html, parse_mode="HTML")
    assert reason in info.value.message


async def test_markdown_v2_reserved_characters(bot: Bot) -> None:
    ok = await bot.send_message(USER, r"*Итого:* 5\.0 \- готово", parse_mode="MarkdownV2")
    assert ok.text == "Итого: 5.0 - готово" and ok.entities and ok.entities[0].type == "bold"
    with pytest.raises(TelegramBadRequest, match="Character '.' is reserved"):
        await bot.send_message(USER, "Готово.", parse_mode="MarkdownV2")


async def test_explicit_entities_win_over_parse_mode(bot: Bot) -> None:
    msg = await bot.send_message(
        USER, "<b>as is</b>", parse_mode="HTML",
        entities=[MessageEntity(type="italic", offset=0, length=3)],
    )
    assert msg.text == "<b>as is</b>" and msg.entities and msg.entities[0].type == "italic"


async def test_caption_limit(bot: Bot) -> None:
    from aiogram.types import BufferedInputFile

    await bot.send_document(USER, BufferedInputFile(b"x", "a.txt"), caption="я" * 1024)
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_document(USER, BufferedInputFile(b"x", "a.txt"), caption="я" * 1025)

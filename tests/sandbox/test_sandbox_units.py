"""Pure unit tests (no server): parsers, token buckets, fault rules, update queue."""

from __future__ import annotations

import pytest

from sandbox.errors import ApiError
from sandbox.faults import FaultInjector
from sandbox.htmltext import FormatError, parse_html
from sandbox.limits import LimitConfig, RateLimiter
from sandbox.markdown import parse_markdown, parse_markdown_v2
from sandbox.textutil import command_entities, trim


def test_html_details() -> None:
    assert parse_html("a &amp b") == ("a & b", [])  # the semicolon is optional, as in Telegram
    assert parse_html("Tom & Jerry") == ("Tom & Jerry", [])  # a bare ampersand is plain text
    assert parse_html("<blockquote expandable>q</blockquote>")[1] == [
        {"type": "expandable_blockquote", "offset": 0, "length": 1}
    ]
    assert parse_html("<a>https://e.org</a>")[1][0]["url"] == "https://e.org"  # empty href → the text
    with pytest.raises(FormatError, match="Unclosed start tag at byte offset 0"):
        parse_html('<a href="x"')


def test_markdown() -> None:
    assert parse_markdown_v2("||s|| __u__ [l](https://e.org/a\\)b)") == (
        "s u l",
        [
            {"type": "spoiler", "offset": 0, "length": 1},
            {"type": "underline", "offset": 2, "length": 1},
            {"type": "text_link", "offset": 4, "length": 1, "url": "https://e.org/a)b"},
        ],
    )
    with pytest.raises(FormatError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*открыт")
    assert parse_markdown("*b* _i_")[0] == "b i"


def test_trim_and_commands() -> None:
    text, entities = trim("  <hi>  ", [{"type": "bold", "offset": 2, "length": 6}])
    assert text == "<hi>" and entities == [{"type": "bold", "offset": 0, "length": 4}]
    assert command_entities("/start@mcu_bot x /help") == [
        {"type": "bot_command", "offset": 0, "length": 14},
        {"type": "bot_command", "offset": 17, "length": 5},
    ]


def test_rate_limiter_buckets() -> None:
    now = [0.0]
    limiter = RateLimiter(LimitConfig(), clock=lambda: now[0])
    for _ in range(3):  # burst of 3 tolerated in a private chat
        limiter.check(1, 10, is_group=False)
    with pytest.raises(ApiError) as info:
        limiter.check(1, 10, is_group=False)
    assert info.value.code == 429 and info.value.retry_after == 1
    limiter.check(1, 11, is_group=False)  # other chats are independent
    now[0] += 1.0
    limiter.check(1, 10, is_group=False)
    for _ in range(20):  # 20 per minute in a group
        limiter.check(1, -5, is_group=True)
    with pytest.raises(ApiError) as info:
        limiter.check(1, -5, is_group=True)
    assert info.value.retry_after == 3  # one token per 3 s
    assert limiter.violations_by_kind() == {"global": 0, "chat": 1, "group": 1}


def test_rate_limiter_global_and_strict() -> None:
    limiter = RateLimiter(LimitConfig(strict=True), clock=lambda: 0.0)
    limiter.check(1, 10, is_group=False)
    with pytest.raises(ApiError):
        limiter.check(1, 10, is_group=False)  # strict: no burst at all
    for chat in range(100, 129):
        limiter.check(1, chat, is_group=False)
    with pytest.raises(ApiError):
        limiter.check(1, 500, is_group=False)  # 31st message this second
    assert limiter.violations_by_bot() == {1: {"chat": 1, "global": 1}}


def test_fault_rules_are_reproducible() -> None:
    def run() -> list[bool]:
        faults = FaultInjector(seed=7)
        faults.add({"kind": "500", "probability": 0.5})
        return [faults.pick("sendMessage") is not None for _ in range(20)]

    first = run()
    assert first == run() and 0 < sum(first) < 20
    faults = FaultInjector()
    faults.add({"kind": "502", "count": 2, "methods": ["sendMessage"]})
    assert faults.pick("getUpdates") is None
    assert [faults.pick("SendMessage") is not None for _ in range(3)] == [True, True, False]
    assert faults.injected["502"] == 2

"""MCU_SMTP_URL and the letter itself."""
from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from core.mail import (
    SmtpTarget,
    build_message,
    describe_error,
    is_email_address,
    item_url,
    parse_smtp_url,
)
from core.settings import ConfigError, load_settings


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://127.0.0.1:1025", SmtpTarget("plain", "127.0.0.1", 1025)),
    ("smtp://mail.district.example", SmtpTarget("plain", "mail.district.example", 25)),
    ("smtps://mcu%40district.ru:p%40ss@smtp.yandex.ru", SmtpTarget("tls", "smtp.yandex.ru", 465,
                                                                  "mcu@district.ru", "p@ss")),
    ("SMTP+STARTTLS://user:secret@relay.example:2525/", SmtpTarget("starttls", "relay.example", 2525,
                                                                   "user", "secret")),
    ("smtp://[::1]:1025", SmtpTarget("plain", "::1", 1025)),
])
def test_good_urls(url, expected):
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(("url", "reason"), [
    ("http://mail.example", "expected smtp://"),
    ("mail.example:25", "expected smtp://"),
    ("smtp://", "expected smtp://"),
    ("smtp://user:secret@mail.example:99999", "the port must be a number"),
    ("smtp://user:secret@mail.example:0", "the port must be a number"),
    ("smtp://mail.example:smtp", "the port must be a number"),
    ("smtp://user@mail.example", "give both user and password"),
    ("smtp://mail.example/inbox?tls=1", "nothing may follow host:port"),
])
def test_a_bad_url_is_one_line_without_the_password(url, reason):
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, smtp_url=url)
    message = str(caught.value)
    assert message.startswith("MCU_SMTP_URL: ") and reason in message
    assert "\n" not in message and "secret" not in message


def test_empty_url_is_mail_off():
    assert load_settings(_env_file=None, smtp_url="  ").smtp_url is None


def test_describe_hides_the_password():
    target = parse_smtp_url("smtps://mcu%40district.ru:secret@smtp.yandex.ru")
    assert target.describe() == "smtps://mcu%40district.ru@smtp.yandex.ru:465"
    assert "secret" not in repr(target)


@pytest.mark.parametrize(("address", "ok"), [
    ("ivan.petrov+mcu@mail.example.ru", True), ("root@localhost", True), ("почта@мэрия.рф", True),
    (" ivan@mail.ru ", True), ("ivan at mail.ru", False), ("ivan@", False), ("@mail.ru", False),
    ("a@b..ru", False), ("a@b.ru, c@d.ru", False), ("a@b.ru\nBcc: x@y.ru", False), ("<a@b.ru>", False),
])
def test_is_email_address(address, ok):
    assert is_email_address(address) is ok


def test_the_letter_is_utf8_with_the_headers_it_needs():
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    letter = build_message("МЦУ района <mcu@district.example>", "ivan@mail.example", "Ответ на обращение № 1",
                           "Здравствуйте, Иван Петрович!", html="<p>Здравствуйте!</p>", now=now)
    parsed = message_from_bytes(letter.as_bytes(policy=policy.SMTP), policy=policy.default)
    assert parsed["Subject"] == "Ответ на обращение № 1"
    assert parsed["Date"].datetime == now
    assert parsed["Message-ID"].endswith("@district.example>")
    assert parsed.get_content_type() == "multipart/alternative"
    plain = parsed.get_body(("plain",))
    assert plain.get_content_charset() == "utf-8" and "Иван Петрович" in plain.get_content()
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Здравствуйте!</p>"
    with pytest.raises(ValueError, match="not an e-mail address"):
        build_message("mcu@localhost", "a@b.ru\r\nBcc: spy@evil.example", "x", "y", now=now)


def test_item_url_and_error_lines():
    assert item_url("http://mcu.district.example/", 42) == "http://mcu.district.example/items/42"
    assert describe_error(TimeoutError()) == "timeout: the mail server did not answer in time"
    assert describe_error(ConnectionRefusedError(111, "refused")).startswith("connection refused")

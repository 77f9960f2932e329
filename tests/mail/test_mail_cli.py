"""`mcu mail test` and the mail lines of `mcu status`, as an operator runs them: a real process."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.outbox import enqueue_email, enqueue_message
from db.engine import make_engine, make_sessionmaker
from tests.cli.test_cli import mcu
from tests.mail.conftest import SmtpServer


def test_help(tmp_path):
    for command in (["mail"], ["mail", "test"]):
        result = mcu(tmp_path, *command, "--help")
        assert result.returncode == 0 and "usage: mcu" in result.stdout
    assert "--to" in mcu(tmp_path, "mail", "test", "--help").stdout


def test_mail_test_sends_a_letter(tmp_path, smtp: SmtpServer):
    result = mcu(tmp_path, "mail", "test", "--to", "operator@district.example", MCU_SMTP_URL=smtp.url,
                 MCU_SMTP_FROM="МЦУ <mcu@district.example>", MCU_ADMIN_URL="https://mcu.district.example")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert result.stdout.startswith(f"Письмо отправлено на operator@district.example через {smtp.url}")
    assert result.stdout.rstrip().endswith("сервер ответил: 2.0.0 Ok: queued")
    [got] = smtp.mailbox.received
    letter = got.message()
    assert got.sender == "mcu@district.example" and got.recipients == ["operator@district.example"]
    assert letter["Subject"] == "МЦУ: проверка почты"
    assert "https://mcu.district.example/" in letter.get_content()


def test_mail_test_reports_a_refusal_in_one_line(tmp_path, smtp: SmtpServer):
    smtp.mailbox.rcpt_replies["nobody@district.example"] = "550 5.1.1 Mailbox unavailable"
    result = mcu(tmp_path, "mail", "test", "--to", "nobody@district.example", MCU_SMTP_URL=smtp.url)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("mcu: письмо не отправлено") and "550 5.1.1 Mailbox unavailable" in result.stderr


def test_mail_test_with_the_server_down(tmp_path):
    down = SmtpServer()  # never started
    result = mcu(tmp_path, "mail", "test", "--to", "a@district.example", MCU_SMTP_URL=down.url)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "connection refused" in result.stderr


@pytest.mark.parametrize(("env", "args", "reason"), [
    ({}, ["--to", "a@district.example"], "MCU_SMTP_URL не задан"),
    ({"MCU_SMTP_URL": "smtp://127.0.0.1:1025"}, ["--to", "не адрес"], "не адрес e-mail"),
    ({"MCU_SMTP_URL": "smtp://user:secret@127.0.0.1:70000"}, ["--to", "a@district.example"],
     "MCU_SMTP_URL: the port must be a number"),
])
def test_mail_test_bad_input_is_one_line(tmp_path, env, args, reason):
    result = mcu(tmp_path, "mail", "test", *args, **env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and reason in result.stderr and "secret" not in result.stderr


async def _queue(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'mcu.db'}")
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            enqueue_message(session, 5001, "уведомление")
            enqueue_email(session, "a@district.example", "Карточка", "текст")
            enqueue_email(session, "b@district.example", "Карточка", "текст")
    finally:
        await engine.dispose()


async def test_status_counts_mail_apart_and_warns_when_mail_is_off(tmp_path):
    assert mcu(tmp_path, "db", "upgrade").returncode == 0
    await _queue(tmp_path)
    off = mcu(tmp_path, "status")
    assert off.returncode == 0, off.stderr
    telegram, _, mail = off.stdout.partition("Письма")
    assert "Telegram" in telegram and "в очереди:    1" in telegram
    assert "почта выключена" in mail and "в очереди:    2" in mail
    assert "Внимание: 2 писем ждут отправки, а почта выключена" in mail
    on = mcu(tmp_path, "status", MCU_SMTP_URL="smtp://relay:secret@127.0.0.1:1025")
    assert on.returncode == 0, on.stderr
    assert "почта через smtp://relay@127.0.0.1:1025" in on.stdout
    assert "Внимание" not in on.stdout and "secret" not in on.stdout

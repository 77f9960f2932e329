"""E-mail through the outbox against a real SMTP server: delivery, 4xx, 5xx, outages, mail off,
and Telegram flowing while the mail server is slow."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.factory import make_bot
from core.clock import ManualClock
from core.mail import parse_smtp_url
from core.outbox import MAX_ATTEMPTS, claim_due, enqueue_email, enqueue_message
from db.models import OutboxMessage, OutboxPriority
from sandbox import SandboxClient, start_sandbox
from scheduler.mail_sender import MailSender
from scheduler.outbox_sender import OutboxSender
from tests.mail.conftest import SmtpServer

FROM = "МЦУ района <mcu@district.example>"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def mail_sender(sessionmaker, clock: ManualClock, url: str | None, **options) -> MailSender:
    target = parse_smtp_url(url) if url else None
    return MailSender(sessionmaker, target, FROM, clock=clock, idle=0.01, timeout=5, **options)


async def queue(sessionmaker, clock, *letters: tuple[str, str, str], **options) -> list[int]:
    async with sessionmaker() as session, session.begin():
        rows = [enqueue_email(session, to, subject, text, now=clock(), **options) for to, subject, text in letters]
    return [row.id for row in rows]


async def rows(sessionmaker) -> list[OutboxMessage]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_queued_letter_arrives_in_utf8(sessionmaker, clock, smtp: SmtpServer):
    await queue(sessionmaker, clock, ("Official@Example.test", "МЦУ: № 2026-000001",
                                      "Новое обращение: не вывозят мусор.\nКарточка: http://mcu/items/1"),
                html="<p>Новое обращение: <b>не вывозят мусор</b></p>")
    assert await mail_sender(sessionmaker, clock, smtp.url).drain_once() == 1
    [got] = smtp.mailbox.received
    assert got.sender == "mcu@district.example" and got.recipients == ["Official@Example.test"]
    letter = got.message()
    assert letter["Subject"] == "МЦУ: № 2026-000001"
    assert letter["From"].addresses[0].display_name == "МЦУ района"
    assert letter["To"] == "Official@Example.test"
    assert letter["Auto-Submitted"] == "auto-generated"
    assert letter["Date"].datetime == clock()
    [row] = await rows(sessionmaker)
    assert letter["Message-ID"] == f"<mcu.outbox.{row.id}.{int(row.created_at.timestamp())}@district.example>"
    assert letter.get_body(("plain",)).get_content().replace("\r\n", "\n") == (
        "Новое обращение: не вывозят мусор.\nКарточка: http://mcu/items/1\n")
    assert "<b>не вывозят мусор</b>" in letter.get_body(("html",)).get_content()
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, clock(), None)


async def test_one_connection_per_batch_most_urgent_first(sessionmaker, clock, smtp: SmtpServer):
    await queue(sessionmaker, clock, *[(f"r{n}@example.test", f"Напоминание {n}", "текст") for n in range(3)])
    await queue(sessionmaker, clock, ("head@example.test", "Риск", "срочно"), priority=OutboxPriority.alert)
    assert await mail_sender(sessionmaker, clock, smtp.url).drain_once() == 4
    received = smtp.mailbox.received
    assert [r.message()["Subject"] for r in received] == ["Риск", "Напоминание 0", "Напоминание 1", "Напоминание 2"]
    assert len({r.peer for r in received}) == 1


async def test_a_4xx_is_retried_with_backoff_then_delivered(sessionmaker, clock, smtp: SmtpServer):
    smtp.mailbox.data_replies.append("451 4.3.0 Temporary failure, try later")
    await queue(sessionmaker, clock, ("citizen@example.test", "Ответ на обращение", "Ответ"))
    sender = mail_sender(sessionmaker, clock, smtp.url)
    assert await sender.drain_once() == 1
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "451 4.3.0 Temporary failure, try later" and row.next_attempt_at > clock()
    assert await sender.drain_once() == 0  # not due yet
    clock.advance(seconds=2)
    assert await sender.drain_once() == 1
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(smtp.mailbox.received) == 1


async def test_a_4xx_that_never_ends_gives_up_after_max_attempts(sessionmaker, clock, smtp: SmtpServer):
    smtp.mailbox.rcpt_replies["busy@example.test"] = "450 4.2.1 Mailbox busy"
    await queue(sessionmaker, clock, ("busy@example.test", "Тема", "Текст"))
    sender = mail_sender(sessionmaker, clock, smtp.url)
    for _ in range(MAX_ATTEMPTS):
        assert await sender.drain_once() == 1
        clock.advance(seconds=301)
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts, row.last_error) == ("failed", MAX_ATTEMPTS, "450 4.2.1 Mailbox busy")


async def test_a_5xx_is_final_and_recorded_without_the_address_in_logs(sessionmaker, clock, smtp: SmtpServer,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    smtp.mailbox.rcpt_replies["nobody@example.test"] = "550 5.1.1 Mailbox unavailable"
    await queue(sessionmaker, clock, ("nobody@example.test", "Ответ Иванову", "Уважаемый Иван Петрович"),
                ("good@example.test", "Карточка", "текст"))
    sender = mail_sender(sessionmaker, clock, smtp.url)
    assert await sender.drain_once() == 2
    bad, good = await rows(sessionmaker)
    assert (bad.status, bad.attempts, bad.last_error) == ("failed", 1, "550 5.1.1 Mailbox unavailable")
    assert good.status == "sent" and [r.recipients for r in smtp.mailbox.received] == [["good@example.test"]]
    clock.advance(hours=1)
    assert await sender.drain_once() == 0  # final: never tried again
    # everything the app side logged; "mail.log" is the test SMTP server's own chatter
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert f"row {bad.id}" in logged
    assert "nobody@" not in logged and "good@" not in logged and "Иван" not in logged


async def test_a_rejected_letter_body_is_final_too(sessionmaker, clock, smtp: SmtpServer):
    smtp.mailbox.data_replies.append("554 5.7.1 Message rejected")
    await queue(sessionmaker, clock, ("a@example.test", "Тема", "Текст"))
    await mail_sender(sessionmaker, clock, smtp.url).drain_once()
    [row] = await rows(sessionmaker)
    assert (row.status, row.last_error) == ("failed", "554 5.7.1 Message rejected")


async def test_an_impossible_address_fails_without_bothering_the_server(sessionmaker, clock, smtp: SmtpServer):
    # enqueue_email does not judge the address: the change that caused the letter must not fail
    await queue(sessionmaker, clock, ("ivan at mail.ru", "Ответ", "Текст"), ("ok@example.test", "Ответ", "Текст"))
    assert await mail_sender(sessionmaker, clock, smtp.url).drain_once() == 2
    bad, good = await rows(sessionmaker)
    assert (bad.status, bad.last_error) == ("failed", "bad letter: not an e-mail address")
    assert good.status == "sent" and len(smtp.mailbox.received) == 1


async def test_server_down_for_long_then_up_loses_nothing(sessionmaker, clock):
    server = SmtpServer()  # its port is chosen, nothing listens yet
    await queue(sessionmaker, clock, *[(f"r{n}@example.test", f"Письмо {n}", "текст") for n in range(3)])
    sender = mail_sender(sessionmaker, clock, server.url)
    for _ in range(MAX_ATTEMPTS + 3):  # longer than any one letter's retries would last
        assert await sender.drain_once() == 0
        assert await sender.drain_once() == 0  # paused: no new connection attempt at once
        clock.advance(seconds=301)
    waiting = await rows(sessionmaker)
    assert {(r.status, r.attempts) for r in waiting} == {("pending", 0)}
    assert waiting[0].last_error.startswith("connection refused")
    server.start()
    try:
        clock.advance(seconds=301)
        assert await sender.drain_once() == 3
        assert sorted(r.message()["Subject"] for r in server.mailbox.received) == ["Письмо 0", "Письмо 1", "Письмо 2"]
        assert {(r.status, r.attempts) for r in await rows(sessionmaker)} == {("sent", 1)}
    finally:
        server.stop()


async def test_a_refused_sender_is_our_configuration_letters_wait(sessionmaker, clock, smtp: SmtpServer):
    smtp.mailbox.sender_reply = "553 5.7.1 Sender address rejected: not owned by user"
    await queue(sessionmaker, clock, ("a@example.test", "Тема", "Текст"), ("b@example.test", "Тема", "Текст"))
    sender = mail_sender(sessionmaker, clock, smtp.url)
    assert await sender.drain_once() == 0
    assert {(r.status, r.attempts) for r in await rows(sessionmaker)} == {("pending", 0)}
    smtp.mailbox.sender_reply = None  # the operator fixed MCU_SMTP_FROM on the server side
    clock.advance(seconds=2)
    assert await sender.drain_once() == 2
    assert len(smtp.mailbox.received) == 2


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_login_from_the_url(sessionmaker, clock):
    server = SmtpServer(login=("mcu@district.example", "p@ss:слово"))
    server.start()
    try:
        await queue(sessionmaker, clock, ("a@example.test", "Тема", "Текст"))
        wrong = server.url.replace("p%40ss", "wrong")
        assert await mail_sender(sessionmaker, clock, wrong).drain_once() == 0
        [row] = await rows(sessionmaker)
        assert (row.status, row.attempts) == ("pending", 0) and row.last_error.startswith("535")
        clock.advance(seconds=2)
        assert await mail_sender(sessionmaker, clock, server.url).drain_once() == 1
        assert len(server.mailbox.received) == 1
    finally:
        server.stop()


async def test_mail_off_rows_stay_pending_and_it_is_said_once(sessionmaker, clock, caplog):
    caplog.set_level(logging.INFO)
    await queue(sessionmaker, clock, ("a@example.test", "Тема", "Текст"))
    sender = mail_sender(sessionmaker, clock, None)
    assert await sender.drain_once() == 0
    await asyncio.wait_for(sender.run(asyncio.Event()), 5)  # returns at once: nothing to do
    async with sessionmaker() as session:
        assert await claim_due(session, clock(), 100) == []  # the Telegram side leaves it alone too
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts, row.claimed_at) == ("pending", 0, None)
    said = [r.getMessage() for r in caplog.records if "mail is off" in r.getMessage()]
    assert said == ["mail is off (MCU_SMTP_URL is not set): 1 e-mail rows wait in the outbox"]


async def test_telegram_keeps_flowing_while_smtp_is_slow(settings, sessionmaker, smtp: SmtpServer):
    """Real time here (the Telegram limits need it), but no wall-time assertion: the order of events."""
    smtp.mailbox.release.clear()  # DATA hangs until released
    server = await start_sandbox(port=0)
    bot = make_bot(settings, api_url=server.url, dialogue=False)
    mail = MailSender(sessionmaker, parse_smtp_url(smtp.url), FROM, idle=0.01, timeout=30)
    sender = OutboxSender(bot, sessionmaker, idle=0.01, mail=mail)
    stop = asyncio.Event()
    try:
        async with SandboxClient(server.url) as sb:
            chats = (7501, 7502, 7503)
            for chat in chats:
                await sb.add_user(chat, first_name="Житель")
            async with sessionmaker() as session, session.begin():
                enqueue_email(session, "official@example.test", "Карточка", "текст")
            running = asyncio.create_task(sender.run(stop))
            assert await asyncio.to_thread(smtp.mailbox.data_started.wait, 10)  # the letter is stuck in DATA
            async with sessionmaker() as session, session.begin():
                for chat in chats:
                    enqueue_message(session, chat, f"уведомление {chat}")
            for chat in chats:
                message = await sb.wait_bot_message(chat, timeout=10)
                assert message["text"] == f"уведомление {chat}"
            assert smtp.mailbox.received == []  # all the while the mail server still holds the letter
            smtp.mailbox.release.set()
            assert await asyncio.to_thread(smtp.mailbox.delivered.wait, 10)
            stop.set()
            await asyncio.wait_for(running, 15)
    finally:
        stop.set()
        await bot.session.close()
        await server.stop()
    statuses = {(r.transport, r.status) for r in await rows(sessionmaker)}
    assert statuses == {("telegram", "sent"), ("email", "sent")}


async def test_a_server_that_hangs_is_a_timeout_and_retried(sessionmaker, clock, smtp: SmtpServer):
    smtp.mailbox.release.clear()  # DATA never answers while cleared
    [row_id] = await queue(sessionmaker, clock, ("a@example.test", "Тема", "Текст"))
    sender = MailSender(sessionmaker, parse_smtp_url(smtp.url), FROM, clock=clock, timeout=0.3)
    assert await sender.drain_once() == 1
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("timeout")
    smtp.mailbox.release.set()
    clock.advance(seconds=2)
    assert await sender.drain_once() == 1
    [row] = await rows(sessionmaker)
    assert (row.status, row.attempts) == ("sent", 2)
    # had the first try got through after all, the reader's client sees one letter: same Message-ID
    assert {r.message()["Message-ID"] for r in smtp.mailbox.received} == {
        f"<mcu.outbox.{row_id}.{int(row.created_at.timestamp())}@district.example>"}

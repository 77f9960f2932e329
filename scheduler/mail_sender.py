"""The e-mail side of the outbox sender (design.md rule 3), run by OutboxSender as its own task
so a slow or dead mail server never holds up Telegram.

A pass starts only when a letter is due, opens one SMTP connection, then claims and sends the
due letters one by one (so no claim ages behind a slow greeting or slow letters), recording each
outcome at once: accepted → sent; 4xx, a timeout, a dropped connection → retried with the outbox
backoff; 5xx or an address that cannot be one → failed with the reason. When the server cannot
be reached, or refuses our own configuration (login, sender address), the letters stay queued
uncounted, with the reason noted, and the mail side pauses with growing delays (up to five
minutes): an outage of any length loses nothing.
With MCU_SMTP_URL unset the letters stay pending, untouched, until mail is configured.

Logs carry outbox row ids and reply codes only: addresses and texts are personal data.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import mail, outbox
from core.clock import Clock, system_clock
from core.settings import Settings
from db.models import OutboxMessage
from scheduler.outbox_sender import backoff

log = logging.getLogger(__name__)


class MailSender:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        target: mail.SmtpTarget | None,
        sender: str,
        *,
        clock: Clock = system_clock,
        batch: int = 50,
        idle: float = 2.0,
        timeout: float = mail.SMTP_TIMEOUT,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.target = target
        self.sender = sender  # the From header, e.g. "МЦУ <mcu@example.ru>"
        self.clock = clock
        self.batch = batch
        self.idle = idle
        self.timeout = timeout
        self._outages = 0  # failed connection attempts in a row
        self._paused_until: datetime | None = None
        self._stop: asyncio.Event | None = None

    @classmethod
    def from_settings(cls, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession],
                      **options: object) -> MailSender:
        target = mail.parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        return cls(sessionmaker, target, settings.smtp_from, **options)  # type: ignore[arg-type]

    async def run(self, stop: asyncio.Event) -> None:
        self._stop = stop
        if self.target is None:
            try:
                await self._report_mail_off()
            except Exception:  # only a log line is lost
                log.exception("mail is off (MCU_SMTP_URL is not set); the outbox could not be read")
            return
        log.info("mail: sending through %s", self.target.describe())
        while not stop.is_set():
            try:
                handled = await self.drain_once()
            except Exception:  # a database hiccup must not end the sender
                log.exception("mail pass failed")
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.idle)

    async def drain_once(self) -> int:
        """One pass over one SMTP connection; returns how many letters it handled."""
        if self.target is None or self._paused():
            return 0
        handled = 0
        async with self.sessionmaker() as session:
            await outbox.release_stale_claims(session, self.clock())
            due = await outbox.email_due(session, self.clock())
            await session.commit()  # no transaction stays open while SMTP talks
            if not due:
                return 0
            # Connect before claiming: a slow greeting or login never ages a claim.
            smtp = await self._connect(session)
            if smtp is None:
                return 0
            try:
                while handled < self.batch and not (self._stop and self._stop.is_set()):
                    rows = await outbox.claim_due_email(session, self.clock(), 1)
                    await session.commit()
                    if not rows:
                        break
                    usable = await self._send(smtp, rows[0])
                    await session.commit()
                    if self._paused():  # our own settings were refused: nothing was handled
                        break
                    handled += 1
                    if not usable:
                        break
            finally:
                await mail.close_quietly(smtp)
        return handled

    async def _connect(self, session: AsyncSession) -> aiosmtplib.SMTP | None:
        assert self.target is not None
        try:
            smtp = await mail.connect(self.target, timeout=self.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = mail.describe_error(exc)
            delay = self._pause()
            await outbox.note_email_delay(session, self.clock(), reason)
            await session.commit()
            log.warning("mail: cannot use %s (%s); letters wait, next try in %d s",
                        self.target.describe(), reason, delay)
            return None
        if self._outages:
            log.info("mail: %s answers again", self.target.describe())
        self._outages = 0
        return smtp

    def _paused(self) -> bool:
        return self._paused_until is not None and self.clock() < self._paused_until

    def _pause(self) -> float:
        delay = backoff(self._outages)
        self._outages += 1
        self._paused_until = self.clock() + timedelta(seconds=delay)
        return delay

    async def _send(self, smtp: aiosmtplib.SMTP, row: OutboxMessage) -> bool:
        """Send one letter and record the outcome; False once the connection is no longer usable."""
        try:
            message = self._message(row)
        except (KeyError, TypeError, ValueError) as exc:
            outbox.mark_failed(row, f"bad letter: {exc}")
            log.warning("mail: outbox row %s failed: not a valid letter", row.id)
            return True
        try:
            # aiosmtplib's timeout is per command; this bounds the whole letter, so its claim stays
            # well inside outbox.STALE_CLAIM and no other sender takes it meanwhile.
            await asyncio.wait_for(
                smtp.send_message(message, sender=mail.bare_address(self.sender), recipients=[row.email or ""]),
                self.timeout * 2,
            )
        except aiosmtplib.SMTPSenderRefused as exc:
            if exc.code >= 500:  # our MCU_SMTP_FROM or missing login: every letter would bounce
                reason = mail.describe_error(exc)
                delay = self._pause()
                outbox.release_unsent(row, self.clock(), delay, reason)
                log.error("mail: the server refuses the sender MCU_SMTP_FROM (%s); letters wait, next try in %d s",
                          exc.code, delay)
                return False
            self._retry(row, exc)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as exc:
            code = mail.reply_code(exc) or 0
            if 500 <= code < 600:
                outbox.mark_failed(row, mail.describe_error(exc))
                log.warning("mail: outbox row %s refused for good (%s)", row.id, code)
            else:
                self._retry(row, exc)
        except aiosmtplib.SMTPNotSupported as exc:  # e.g. a Cyrillic address, server without SMTPUTF8
            outbox.mark_failed(row, mail.describe_error(exc))
            log.warning("mail: outbox row %s failed: the server cannot take this address", row.id)
        except ValueError as exc:  # aiosmtplib: an address that cannot be safely sent
            outbox.mark_failed(row, f"bad address: {exc}")
            log.warning("mail: outbox row %s failed: bad address", row.id)
        except (aiosmtplib.SMTPException, OSError) as exc:  # dropped connection, timeout
            self._retry(row, exc)
            return False
        else:
            outbox.mark_sent(row, self.clock())
            return True
        return smtp.is_connected

    def _retry(self, row: OutboxMessage, exc: BaseException) -> None:
        delay = backoff(row.attempts)
        outbox.mark_retry(row, self.clock(), delay, mail.describe_error(exc))
        what = mail.reply_code(exc) or type(exc).__name__
        if row.status == "failed":
            log.warning("mail: outbox row %s failed after %d attempts (%s)", row.id, row.attempts, what)
        else:
            log.info("mail: outbox row %s deferred (%s), attempt %d", row.id, what, row.attempts)

    def _message(self, row: OutboxMessage) -> EmailMessage:
        payload = row.payload
        return mail.build_message(
            self.sender, row.email or "", payload["subject"], payload["text"], html=payload.get("html"),
            now=self.clock(), message_id=mail.outbox_message_id(row.id, row.created_at, self.sender),
        )

    async def _report_mail_off(self) -> None:
        async with self.sessionmaker() as session:
            waiting = (await outbox.outbox_counts(session, "email")).pending
        if waiting:
            log.warning("mail is off (MCU_SMTP_URL is not set): %d e-mail rows wait in the outbox", waiting)
        else:
            log.info("mail is off (MCU_SMTP_URL is not set): e-mail rows will wait in the outbox")

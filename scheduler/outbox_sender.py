"""The one sender that drains the outbox to Telegram (design.md rule 3).

Each pass claims due rows (at most the oldest unsent one per chat, so a chat's order holds),
sends those whose chat may be written to now, keeping Telegram's limits, and records every
outcome: sent; 429 → the whole sender pauses as asked and the row waits; 5xx, timeouts and
network errors → retried with growing delays; 403 → final, the citizen marked unreachable;
400 → final. Rows claimed by a sender that died are released after a while and sent again.

E-mail rows go out through `MailSender` (scheduler/mail_sender.py), which `run` starts as a
task of its own: a slow mail server must never hold up Telegram.

Generated files (a report's charts and spreadsheet, `core.outbox.store_file`) are uploaded from
disk and deleted once their row is final and that is committed. An album costs one message per
part in Telegram's limits, so the rate gate is charged for each.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import (
    FSInputFile,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.clock import Clock, system_clock
from core.reachability import note_blocked_citizen
from db.models import OutboxMessage, OutboxStatus
from scheduler.ratelimit import Monotonic, RateGate

if TYPE_CHECKING:
    from scheduler.mail_sender import MailSender

log = logging.getLogger(__name__)
Sleep = Callable[[float], Awaitable[None]]


def backoff(attempts: int) -> float:
    return float(min(2 ** attempts, 300))


# On shutdown a letter in the middle of its SMTP talk may finish; after this it is cut off
# (its row is released after a while and sent again, with the same Message-ID).
MAIL_STOP_GRACE = 10.0


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        clock: Clock = system_clock,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        gate: RateGate | None = None,
        batch: int = 100,
        in_flight: int = 30,
        idle: float = 0.5,
        mail: MailSender | None = None,
    ) -> None:
        self.bot = bot
        self.sessionmaker = sessionmaker
        self.clock = clock
        self.sleep = sleep
        self.gate = gate or RateGate(clock=monotonic)
        self.batch = batch
        self.in_flight = asyncio.Semaphore(in_flight)
        self.idle = idle
        self.mail = mail

    async def run(self, stop: asyncio.Event) -> None:
        mail_task = asyncio.create_task(self.mail.run(stop), name="outbox-mail") if self.mail else None
        try:
            await self._run_telegram(stop)
        finally:
            if mail_task is not None:
                await self._stop_mail(mail_task, stop)

    async def _run_telegram(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                handled = await self.drain_once()
            except Exception:  # a database hiccup must not end the sender
                log.exception("outbox pass failed")
                handled = 0
            if not handled:
                try:
                    await asyncio.wait_for(stop.wait(), self.idle)
                except TimeoutError:
                    pass

    @staticmethod
    async def _stop_mail(task: asyncio.Task[None], stop: asyncio.Event) -> None:
        if stop.is_set():
            await asyncio.wait({task}, timeout=MAIL_STOP_GRACE)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def drain_once(self) -> int:
        """One pass; returns how many rows it handled (sent, failed or rescheduled)."""
        async with self.sessionmaker() as session:
            await outbox.release_stale_claims(session, self.clock())
            rows = await outbox.claim_due(session, self.clock(), self.batch)
            await session.commit()
            if not rows:
                return 0
            tasks: list[asyncio.Task[None]] = []
            blocked: list[OutboxMessage] = []
            deferred: list[tuple[OutboxMessage, float]] = []
            for row in rows:
                assert row.chat_id is not None
                chat_wait = self.gate.chat_wait(row.chat_id)
                if chat_wait > 0:
                    deferred.append((row, chat_wait))
                    continue
                while (wait := self.gate.global_wait()) > 0:
                    await self.sleep(wait)
                for _part in range(outbox.send_cost(row)):
                    self.gate.take(row.chat_id)
                await self.in_flight.acquire()
                tasks.append(asyncio.create_task(self._send(row, blocked)))
            if tasks:
                await asyncio.gather(*tasks)
            now = self.clock()
            for row in blocked:  # after the sends: one session is not for concurrent use
                # The item's history notes it and the centre is told; before the mark, which
                # makes the note once per blocking.
                await note_blocked_citizen(session, row.chat_id or 0, row.item_id, now)
                await outbox.mark_chat_unreachable(session, row.chat_id or 0, now)
            for row, wait in deferred:  # not an attempt: the chat was written to a moment ago
                row.status = "pending"
                row.next_attempt_at = now + timedelta(seconds=wait)
            await session.commit()
            for row in rows:  # only now: a pass that dies before the commit sends them again
                if row.status in (OutboxStatus.sent, OutboxStatus.failed):
                    outbox.remove_files(row)
            self.gate.forget_idle()
            return len(rows)

    async def _send(self, row: OutboxMessage, blocked: list[OutboxMessage]) -> None:
        try:
            await self._call(row)
        except TelegramRetryAfter as exc:
            self.gate.pause(exc.retry_after)
            outbox.mark_retry(row, self.clock(), exc.retry_after, f"429: retry after {exc.retry_after}")
        except TelegramForbiddenError as exc:
            outbox.mark_failed(row, f"403: {exc.message}")
            blocked.append(row)
        except TelegramBadRequest as exc:
            outbox.mark_failed(row, f"400: {exc.message}")
        except (TimeoutError, TelegramServerError, TelegramNetworkError) as exc:
            outbox.mark_retry(row, self.clock(), backoff(row.attempts), f"{type(exc).__name__}: {exc}")
        except ValueError as exc:
            outbox.mark_failed(row, str(exc))
        except TelegramAPIError as exc:
            outbox.mark_retry(row, self.clock(), backoff(row.attempts), f"{type(exc).__name__}: {exc.message}")
        else:
            outbox.mark_sent(row, self.clock())
        finally:
            self.in_flight.release()

    async def _call(self, row: OutboxMessage) -> None:
        payload = dict(row.payload)
        markup = payload.pop("reply_markup", None)
        keyboard = InlineKeyboardMarkup.model_validate(markup) if markup else None
        chat_id = row.chat_id
        assert chat_id is not None
        if row.method == "sendMessage":
            await self.bot.send_message(chat_id, payload.pop("text"), reply_markup=keyboard, **payload)
        elif row.method == "sendPhoto":
            await self.bot.send_photo(chat_id, _file(payload.pop("photo")), reply_markup=keyboard, **payload)
        elif row.method == "sendDocument":
            await self.bot.send_document(chat_id, _file(payload.pop("document")), reply_markup=keyboard, **payload)
        elif row.method in ("sendVoice", "sendVideo", "sendAudio"):
            # A citizen's voice note or video goes to the official as it came (core.lifecycle's files).
            field = row.method.removeprefix("send").lower()
            send = {"voice": self.bot.send_voice, "video": self.bot.send_video, "audio": self.bot.send_audio}[field]
            await send(chat_id, _file(payload.pop(field)), reply_markup=keyboard, **payload)
        elif row.method == "sendMediaGroup":
            await self.bot.send_media_group(chat_id, [_album_part(part) for part in payload.pop("media")], **payload)
        else:
            raise ValueError(f"unknown outbox method {row.method!r}")


ALBUM_PARTS: dict[str, type[InputMediaPhoto | InputMediaDocument | InputMediaVideo | InputMediaAudio]] = {
    "photo": InputMediaPhoto, "document": InputMediaDocument, "video": InputMediaVideo, "audio": InputMediaAudio}


def _file(value: object) -> str | InputFile:
    """A Telegram file id as it is; a stored file (core.outbox.store_file) uploaded from disk.
    A missing file is a ValueError: the row fails for good, as nothing will bring it back."""
    if isinstance(value, str):
        return value
    path = outbox.stored_path(value)
    if path is None:
        raise ValueError("outbox file outside the outbox folder")
    if not path.is_file():
        raise ValueError(f"outbox file is gone: {path.name}")
    filename = value.get("filename") if isinstance(value, dict) else None
    return FSInputFile(path, filename=str(filename or path.name))


def _album_part(part: dict[str, object]) -> InputMediaPhoto | InputMediaDocument | InputMediaVideo | InputMediaAudio:
    kind = str(part.get("type", "photo"))
    if kind not in ALBUM_PARTS:
        raise ValueError(f"unknown album part {kind!r}")
    media = part["media"] if "media" in part else _file(part)
    extra = {k: part[k] for k in ("caption", "parse_mode") if k in part}
    if "caption" in extra and "parse_mode" not in extra:
        extra["parse_mode"] = "HTML"
    return ALBUM_PARTS[kind](media=media, **extra)

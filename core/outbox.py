"""The outbox (design.md rule 3): every notification is a row written in the transaction that
caused it; one sender drains the rows (scheduler/outbox_sender.py).

Rows of one chat leave in the order they were written; across chats the priority decides
(dialogue > alerts > reminders > broadcasts). E-mail rows (transport "email") are claimed
separately and drained beside the Telegram loop (scheduler/mail_sender.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Citizen, OutboxMessage, OutboxPriority, OutboxStatus

# A row claimed this long ago by a sender that never reported back (it crashed) is sent again.
STALE_CLAIM = timedelta(minutes=2)
MAX_ATTEMPTS = 12


def enqueue_message(
    session: AsyncSession,
    chat_id: int,
    text: str,
    *,
    priority: int = OutboxPriority.reminder,
    reply_markup: dict[str, Any] | None = None,
    item_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue a Telegram message (HTML) in the caller's transaction."""
    payload: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
    if reply_markup is not None:
        payload["reply_markup"] = reply_markup
    row = OutboxMessage(
        transport="telegram", chat_id=chat_id, method="sendMessage", payload=payload, priority=priority,
        item_id=item_id, dedupe_key=dedupe_key,
    )
    if not_before is not None or now is not None:
        row.next_attempt_at = not_before or now  # type: ignore[assignment]
    session.add(row)
    return row


def enqueue_email(
    session: AsyncSession,
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    priority: int = OutboxPriority.reminder,
    item_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> OutboxMessage:
    """Queue an e-mail (plain text, optional HTML alternative) in the caller's transaction.

    The address is not judged here: a bad one must not undo the change that caused the letter;
    the sender records it as failed with the reason, where `mcu status` and the admin see it.
    """
    row = OutboxMessage(
        transport="email", email=to.strip(), method="email",
        payload={"subject": subject, "text": text, "html": html}, priority=priority,
        item_id=item_id, dedupe_key=dedupe_key,
    )
    if not_before is not None or now is not None:
        row.next_attempt_at = not_before or now  # type: ignore[assignment]
    session.add(row)
    return row


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due Telegram rows, at most the oldest unsent one per chat.

    The claim is a conditional UPDATE, so two senders never take the same row.
    """
    earlier = aliased(OutboxMessage)
    blocked_by_earlier = exists().where(
        earlier.chat_id == OutboxMessage.chat_id,
        earlier.id < OutboxMessage.id,
        earlier.status.in_([OutboxStatus.pending, OutboxStatus.sending]),
    )
    candidates = (
        await session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.transport == "telegram",
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.next_attempt_at <= now,
                ~blocked_by_earlier,
            )
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
    ).all()
    return await _claim(session, list(candidates), now)


async def claim_due_email(session: AsyncSession, now: datetime, limit: int) -> list[OutboxMessage]:
    """Claim up to `limit` due e-mail rows, most urgent first (a conditional UPDATE, as claim_due).

    Letters have no per-recipient order to keep: each one stands alone.
    """
    candidates = (
        await session.scalars(
            select(OutboxMessage.id)
            .where(*_email_due(now))
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .limit(limit)
        )
    ).all()
    return await _claim(session, list(candidates), now)


def _email_due(now: datetime) -> list[Any]:
    return [OutboxMessage.transport == "email", OutboxMessage.status == OutboxStatus.pending,
            OutboxMessage.next_attempt_at <= now]


async def email_due(session: AsyncSession, now: datetime) -> bool:
    """Is any letter due? The mail sender connects only then, and claims only once connected."""
    return await session.scalar(select(OutboxMessage.id).where(*_email_due(now)).limit(1)) is not None


async def note_email_delay(session: AsyncSession, now: datetime, reason: str) -> int:
    """Tell the due letters why they wait (mail server unreachable), without counting an attempt."""
    result = await session.execute(update(OutboxMessage).where(*_email_due(now)).values(last_error=reason[:512]))
    return int(result.rowcount or 0)


async def _claim(session: AsyncSession, candidates: list[int], now: datetime) -> list[OutboxMessage]:
    """Take the candidates still pending; a row another sender took in between is left to it."""
    if not candidates:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates), OutboxMessage.status == OutboxStatus.pending)
        .values(status=OutboxStatus.sending, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    rows = (
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.id.in_(candidates), OutboxMessage.status == OutboxStatus.sending,
                   OutboxMessage.claimed_at == now)
            .order_by(OutboxMessage.priority, OutboxMessage.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    return list(rows)


def release_unsent(row: OutboxMessage, now: datetime, delay: float, reason: str) -> None:
    """Back to the queue without counting an attempt: the fault was not this row's (the mail
    server was down or refused our own configuration). The reason is kept for the operator."""
    row.status = OutboxStatus.pending
    row.last_error = reason[:512]
    row.next_attempt_at = now + timedelta(seconds=delay)


async def release_stale_claims(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.sending, OutboxMessage.claimed_at < now - STALE_CLAIM)
        .values(status=OutboxStatus.pending)
    )
    return int(result.rowcount or 0)


def mark_sent(row: OutboxMessage, now: datetime) -> None:
    row.status = OutboxStatus.sent
    row.sent_at = now
    row.attempts += 1
    row.last_error = None


def mark_retry(row: OutboxMessage, now: datetime, delay: float, error: str) -> None:
    row.attempts += 1
    row.last_error = error[:512]
    if row.attempts >= MAX_ATTEMPTS:
        row.status = OutboxStatus.failed
        return
    row.status = OutboxStatus.pending
    row.next_attempt_at = now + timedelta(seconds=delay)


def mark_failed(row: OutboxMessage, error: str) -> None:
    row.attempts += 1
    row.status = OutboxStatus.failed
    row.last_error = error[:512]


async def mark_chat_unreachable(session: AsyncSession, chat_id: int, now: datetime) -> None:
    """403 from Telegram: the citizen blocked the bot; staff must use another way."""
    await session.execute(
        update(Citizen)
        .where(and_(Citizen.telegram_id == chat_id, Citizen.unreachable_since.is_(None)))
        .values(unreachable_since=now)
    )


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    sending: int
    sent: int
    failed: int
    oldest_pending_at: datetime | None


async def outbox_counts(session: AsyncSession, transport: str | None = None) -> OutboxCounts:
    """Rows by status; `transport` ("telegram", "email") narrows to one kind, None counts all."""
    only = [OutboxMessage.transport == transport] if transport else []
    rows = {
        status: count
        for status, count in await session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id)).where(*only).group_by(OutboxMessage.status)
        )
    }
    oldest = await session.scalar(
        select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == OutboxStatus.pending, *only)
    )
    return OutboxCounts(
        pending=int(rows.get(OutboxStatus.pending, 0)),
        sending=int(rows.get(OutboxStatus.sending, 0)),
        sent=int(rows.get(OutboxStatus.sent, 0)),
        failed=int(rows.get(OutboxStatus.failed, 0)),
        oldest_pending_at=oldest,
    )

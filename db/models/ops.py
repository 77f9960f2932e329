"""Operational tables: outbox, reminders, counters, deduplication, FSM, settings, audit,
deadline policies and calendar overrides."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, CreatedMixin, IdMixin, utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # final: 403, 400 — recorded, not retried


class OutboxPriority:
    """Lower sends first: a live dialogue before alerts before reminders before broadcasts."""

    dialogue = 0
    alert = 10
    reminder = 20
    broadcast = 30


class OutboxMessage(IdMixin, CreatedMixin, Base):
    """A message to Telegram or an e-mail, written in the transaction that caused it (rule 3)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "priority", "next_attempt_at"),)

    transport: Mapped[str] = mapped_column(String(16), default="telegram")  # telegram, email
    chat_id: Mapped[int | None] = mapped_column(index=True)
    email: Mapped[str | None] = mapped_column(String(320))
    method: Mapped[str] = mapped_column(String(32), default="sendMessage")
    payload: Mapped[dict[str, Any]]
    priority: Mapped[int] = mapped_column(default=OutboxPriority.reminder)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(512))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="SET NULL"))
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)


class Reminder(IdMixin, CreatedMixin, Base):
    """A due row claimed by a scheduler tick (rule 4): late, never lost, never doubled."""

    __tablename__ = "reminders"
    __table_args__ = (
        Index("ix_reminders_due", "status", "due_at"),
        UniqueConstraint("item_id", "kind", "due_at"),
    )

    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, claimed, done, cancelled
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    claimed_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any] | None]


class Counter(Base):
    """Named sequences, e.g. item numbers per year."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class ProcessedUpdate(Base):
    """Telegram may deliver an update twice; the first commit wins."""

    __tablename__ = "processed_updates"

    bot_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class FsmRecord(Base):
    """aiogram FSM state and data kept in the database, so a dialogue survives a restart."""

    __tablename__ = "fsm_states"

    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(256))
    data: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SettingValue(Base):
    """Settings staff change at run time (head and curator chats, survey delay …)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AuditEntry(IdMixin, Base):
    """Staff actions outside an item's own history (directories, logins, settings)."""

    __tablename__ = "audit_log"

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[int | None]
    details: Mapped[dict[str, Any] | None]
    ip: Mapped[str | None] = mapped_column(String(64))


class DeadlinePolicy(IdMixin, CreatedMixin, Base):
    """Durations by channel × kind × topic/theme × priority; the most specific row wins."""

    __tablename__ = "deadline_policies"

    channel: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(16))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    priority: Mapped[int | None]
    # Each duration is "N d" (calendar days), "N wd" (working days) or "N wh" (working hours).
    registration: Mapped[str | None] = mapped_column(String(16))
    first_reaction: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(String(16))
    review: Mapped[str | None] = mapped_column(String(16))
    extension: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class CalendarOverride(Base):
    """A staff correction of the production calendar: an extra working day or day off."""

    __tablename__ = "calendar_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_working: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(256))

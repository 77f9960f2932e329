"""Items (обращения and сообщения), their correspondence, files, history and surveys."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, CreatedMixin, IdMixin, utcnow


class ItemKind(StrEnum):
    appeal = "appeal"  # обращение по 59-ФЗ
    message = "message"  # сообщение


class Channel(StrEnum):
    bot = "bot"
    pos = "pos"  # Платформа обратной связи (Госуслуги)
    im = "im"  # «Инцидент менеджмент»
    phone = "phone"
    email = "email"
    visit = "visit"
    cur = "cur"  # request from the regional ЦУР


class Status(StrEnum):
    received = "received"
    registered = "registered"
    assigned = "assigned"
    in_work = "in_work"
    interim_answer = "interim_answer"
    answered = "answered"
    under_review = "under_review"
    returned = "returned"  # returned to the recipient for rework
    delivered = "delivered"
    closed = "closed"
    redirected = "redirected"
    reopened = "reopened"
    withdrawn = "withdrawn"
    rejected = "rejected"


class Resolution(StrEnum):
    satisfied = "satisfied"
    auto = "auto"
    not_resolved = "not_resolved"
    postponed = "postponed"


OPEN_STATUSES = frozenset(Status) - {Status.closed, Status.withdrawn, Status.rejected}


class Item(IdMixin, CreatedMixin, Base):
    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # One citizen's album (media group) is one item, whatever order its parts arrive in.
        UniqueConstraint("citizen_id", "tg_media_group_id"),
        # A Telegram message delivered twice must not make two items.
        UniqueConstraint("tg_chat_id", "tg_message_id"),
        Index("ix_items_status_due", "status", "due_answer_at"),
        Index("ix_items_received", "received_at"),
        Index("ix_items_citizen_received", "citizen_id", "received_at"),
        # Reports and the admin list scoped to one organisation (a recipient's view).
        Index("ix_items_org_received", "organisation_id", "received_at"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default=ItemKind.message)
    channel: Mapped[str] = mapped_column(String(16), default=Channel.bot)
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32), default=Status.received)
    resolution: Mapped[str | None] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(default=0)

    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(1024))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    text: Mapped[str] = mapped_column(Text, default="")

    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    # The route the rules suggest, shown on the triage card until someone confirms or changes it.
    suggested_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # 59-ФЗ: whom and where to answer (ст. 7: name and a postal or e-mail address).
    applicant_name: Mapped[str | None] = mapped_column(String(512))
    reply_address: Mapped[str | None] = mapped_column(String(1024))

    tg_chat_id: Mapped[int | None]
    tg_message_id: Mapped[int | None]
    tg_media_group_id: Mapped[str | None] = mapped_column(String(64))

    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    registered_at: Mapped[datetime | None]
    first_reaction_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    due_registration_at: Mapped[datetime | None]
    due_first_reaction_at: Mapped[datetime | None]
    due_answer_at: Mapped[datetime | None]
    due_review_at: Mapped[datetime | None]
    extended: Mapped[bool] = mapped_column(default=False)
    # A recipient's request for more time waits here for the curator's decision.
    extension_requested_at: Mapped[datetime | None]
    # While the item waits for the citizen the clock may be paused (deadline policies).
    paused_since: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    citizen: Mapped[Any] = relationship("Citizen", lazy="raise")
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="item", order_by="Attachment.id", lazy="raise"
    )


class ItemMessage(IdMixin, CreatedMixin, Base):
    """Correspondence on an item: additions, questions, interim and final answers, comments."""

    __tablename__ = "item_messages"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # addition, question, reply, interim, answer, comment
    author_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    author_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    tg_message_id: Mapped[int | None]
    # A citizen's reply points at the question it answers; a reviewer's comment at the answer.
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("item_messages.id", ondelete="SET NULL"))


class Attachment(IdMixin, CreatedMixin, Base):
    __tablename__ = "attachments"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("item_messages.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # photo, document, voice, video, audio
    telegram_file_id: Mapped[str | None] = mapped_column(String(256))
    telegram_file_unique_id: Mapped[str | None] = mapped_column(String(128))
    file_name: Mapped[str | None] = mapped_column(String(512))
    mime_type: Mapped[str | None] = mapped_column(String(128))
    size: Mapped[int | None]
    storage_path: Mapped[str | None] = mapped_column(String(1024))

    item: Mapped[Item] = relationship(back_populates="attachments")


class ItemEvent(IdMixin, Base):
    """The item's history: who, when, what, old → new. Written only by the lifecycle service."""

    __tablename__ = "item_events"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(48))
    actor_kind: Mapped[str] = mapped_column(String(16))  # citizen, staff, system
    actor_citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    field: Mapped[str | None] = mapped_column(String(48))
    old_value: Mapped[str | None] = mapped_column(String(512))
    new_value: Mapped[str | None] = mapped_column(String(512))
    comment: Mapped[str | None] = mapped_column(Text)


class Survey(IdMixin, CreatedMixin, Base):
    """«Решена ли проблема?» after the answer is delivered."""

    __tablename__ = "surveys"

    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    citizen_id: Mapped[int | None] = mapped_column(ForeignKey("citizens.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[str] = mapped_column(String(16), default="planned")  # planned, sent, answered, expired
    send_at: Mapped[datetime | None] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    resolved: Mapped[str | None] = mapped_column(String(16))  # yes, partly, no
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(index=True)

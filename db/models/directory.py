"""Directories that routing and reports rest on: topics, themes, settlements, organisations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, CreatedMixin, IdMixin


class Topic(IdMixin, Base):
    """The socially significant topics of the decree §1, plus «прочее»."""

    __tablename__ = "topics"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ru: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    sort: Mapped[int] = mapped_column(default=0)
    # «механизм ускоренного решения»: answer well inside 30 days (deadline policies use it).
    accelerated: Mapped[bool] = mapped_column(default=False)

    themes: Mapped[list[Theme]] = relationship(back_populates="topic", order_by="Theme.name")


class Theme(IdMixin, Base):
    """Second level, after the «Инцидент менеджмент» list (group → theme)."""

    __tablename__ = "themes"
    __table_args__ = (UniqueConstraint("group_name", "name"),)

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    group_name: Mapped[str] = mapped_column(String(256))
    name: Mapped[str] = mapped_column(String(512))
    is_active: Mapped[bool] = mapped_column(default=True)

    topic: Mapped[Topic] = relationship(back_populates="themes")


class Settlement(IdMixin, Base):
    __tablename__ = "settlements"

    name: Mapped[str] = mapped_column(String(256), unique=True)
    kind: Mapped[str | None] = mapped_column(String(64))  # село, деревня, посёлок …
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    is_active: Mapped[bool] = mapped_column(default=True)


class Organisation(IdMixin, CreatedMixin, Base):
    """A body that answers items: a department, an institution, a utility."""

    __tablename__ = "organisations"

    name: Mapped[str] = mapped_column(String(512), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32), default="department")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)


class RoutingRule(IdMixin, CreatedMixin, Base):
    """topic × theme × settlement → organisation; the most specific active rule wins,
    then the highest priority. Changes are kept in the audit log."""

    __tablename__ = "routing_rules"

    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"), index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("themes.id"))
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("settlements.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    priority: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None]

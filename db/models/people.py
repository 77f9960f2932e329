"""Citizens and staff (officials of the centre and of recipient organisations)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.models.base import Base, CreatedMixin, IdMixin, utcnow


class Role(StrEnum):
    """Roles of domain.md; one person may hold several."""

    recipient = "recipient"
    head = "head"
    curator = "curator"
    analyst = "analyst"
    pos_officer = "pos_officer"
    im_officer = "im_officer"
    gospublic_officer = "gospublic_officer"
    admin = "admin"


class Citizen(IdMixin, CreatedMixin, Base):
    """A person who writes to the centre. Everything here is personal data (152-ФЗ)."""

    __tablename__ = "citizens"

    # Null for citizens registered by staff from phone, mail or a visit.
    telegram_id: Mapped[int | None] = mapped_column(unique=True)
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    full_name: Mapped[str | None] = mapped_column(String(512))  # as given for a 59-ФЗ appeal
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(320))
    postal_address: Mapped[str | None] = mapped_column(String(1024))
    language: Mapped[str | None] = mapped_column(String(8))
    consent_at: Mapped[datetime | None]
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_withdrawn_at: Mapped[datetime | None]
    # Telegram answered 403: the centre must reach the citizen another way.
    unreachable_since: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def has_consent(self) -> bool:
        return self.consent_at is not None and self.consent_withdrawn_at is None


class Staff(IdMixin, CreatedMixin, Base):
    """An official: of the centre, or of an organisation that answers items."""

    __tablename__ = "staff"

    telegram_id: Mapped[int | None] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(256))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[str | None] = mapped_column(String(256))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The admin web: a login name, an argon2 hash, and the lockout after repeated failures.
    login: Mapped[str | None] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    language: Mapped[str | None] = mapped_column(String(8))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.roles)


class StaffRole(IdMixin, Base):
    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("staff_id", "role"),)

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(32))

    staff: Mapped[Staff] = relationship(back_populates="roles")


class StaffSession(CreatedMixin, Base):
    """A login to the admin web. The encrypted cookie carries the token; the row can be revoked,
    so a cookie kept from before logout (or a password change) is refused."""

    __tablename__ = "staff_sessions"

    # SHA-256 of the random token in the cookie: a leaked table opens no session.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))


class StaffInvite(IdMixin, CreatedMixin, Base):
    """A one-time link the bot sends a staff member to set their admin password."""

    __tablename__ = "staff_invites"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

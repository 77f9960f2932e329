"""Citizens as the bot knows them, and their consent to personal-data processing (152-ФЗ)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Citizen, Staff

# Bump when the consent text changes: the record says which text the citizen agreed to.
CONSENT_VERSION = "2026-11"


@dataclass(frozen=True, slots=True)
class TelegramProfile:
    telegram_id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


async def find_citizen(session: AsyncSession, telegram_id: int) -> Citizen | None:
    return await session.scalar(select(Citizen).where(Citizen.telegram_id == telegram_id))


_ACTIVE_STAFF_ID = (
    select(Staff.id).where(Staff.telegram_id == bindparam("telegram_id"), Staff.is_active.is_(True))
    .scalar_subquery()
)
# Built once: they run on every update, and building a statement costs more than SQLite running it.
_WRITER = select(Citizen, _ACTIVE_STAFF_ID).where(Citizen.telegram_id == bindparam("telegram_id"))
_STAFF_ONLY = select(_ACTIVE_STAFF_ID)


async def find_writer(session: AsyncSession, telegram_id: int) -> tuple[Citizen | None, int | None]:
    """The citizen record and the id of an active staff member with this Telegram id, in one
    statement: it runs on every update, so one round through the ORM instead of two."""
    params = {"telegram_id": telegram_id}
    row = (await session.execute(_WRITER, params)).first()
    if row is None:
        return None, await session.scalar(_STAFF_ONLY, params)
    return row[0], row[1]


async def get_or_create_citizen(session: AsyncSession, profile: TelegramProfile,
                                *, known: Citizen | None = None) -> Citizen:
    """`known`: the record the caller has just read (see find_writer), to spare a second read."""
    citizen = known if known is not None else await find_citizen(session, profile.telegram_id)
    if citizen is None:
        try:
            async with session.begin_nested():
                citizen = Citizen(telegram_id=profile.telegram_id)
                _copy_profile(citizen, profile)
                session.add(citizen)
        except IntegrityError:
            # Two first messages raced; the other one created the row.
            citizen = await find_citizen(session, profile.telegram_id)
            assert citizen is not None
    else:
        _copy_profile(citizen, profile)
        if citizen.unreachable_since is not None:
            citizen.unreachable_since = None  # they wrote to us: reachable again
    return citizen


def _copy_profile(citizen: Citizen, profile: TelegramProfile) -> None:
    if citizen.first_name != profile.first_name:
        citizen.first_name = profile.first_name
    if citizen.last_name != profile.last_name:
        citizen.last_name = profile.last_name
    if citizen.telegram_username != profile.username:
        citizen.telegram_username = profile.username


def give_consent(citizen: Citizen, at: datetime) -> None:
    citizen.consent_at = at
    citizen.consent_version = CONSENT_VERSION
    citizen.consent_withdrawn_at = None


def withdraw_consent(citizen: Citizen, at: datetime) -> None:
    citizen.consent_withdrawn_at = at


def set_language(citizen: Citizen, language: str) -> None:
    if language not in ("ru", "en"):
        raise ValueError(f"unsupported language {language!r}")
    citizen.language = language


def set_phone(citizen: Citizen, phone: str) -> None:
    digits = "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    citizen.phone = digits[:32] or None

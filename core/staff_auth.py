"""Staff sign-in to the admin web: passwords, lockout, sessions and one-time invite links.

No aiohttp here: the admin, the CLI and the bot all call these functions. Every sign-in event is
written to the audit log (`core.audit.record`) — never the password or a token, only what happened.
"""
from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.i18n import LocalizedError
from db.models import Staff, StaffInvite, StaffSession

Gettext = Callable[[str], str]

# argon2id with the library's defaults (RFC 9106 "low memory" profile: 64 MiB, 3 passes).
HASHER = PasswordHasher()
PASSWORD_MIN = 10
PASSWORD_MAX = 256  # argon2 takes anything; the cap only stops a megabyte "password" eating the CPU
LOCK_AFTER = 10  # failures in a row
LOCK_FOR = timedelta(minutes=15)
SESSION_IDLE = timedelta(hours=12)  # sliding: every request moves the end
SESSION_MAX = timedelta(days=7)  # however busy, a new login once a week
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most once a minute
INVITE_VALID = timedelta(hours=48)
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated when shown."""
    return message


class AuthError(LocalizedError):
    """A password, login or invite that cannot be used."""


def token_hash(token: str) -> str:
    """What the database keeps of a cookie or invite token: a leaked table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- passwords --------------------------------------------------------------------------------------


def check_password_policy(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise AuthError(N_("Пароль слишком короткий: нужно не меньше {n} символов."), n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise AuthError(N_("Пароль слишком длинный: не больше {n} символов."), n=PASSWORD_MAX)
    if password.isdigit():
        raise AuthError(N_("Пароль не должен состоять из одних цифр: добавьте буквы."))
    if not password.strip():
        raise AuthError(N_("Пароль не должен состоять из одних пробелов."))


async def hash_password(password: str) -> str:
    # Hashing takes tens of milliseconds of CPU on purpose; off the event loop.
    return await asyncio.to_thread(HASHER.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    if len(password) > PASSWORD_MAX:
        return False
    if not password_hash:
        # Same work as a real check, so the answer time does not tell which logins exist.
        await asyncio.to_thread(_verify, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(HASHER.hash(secrets.token_hex(16)))
    return _DUMMY[0]


def normalise_login(login: str) -> str:
    return login.strip().lower()


def check_login_name(login: str) -> str:
    login = normalise_login(login)
    if not _LOGIN.match(login):
        raise AuthError(N_("Логин: от 3 до 64 символов — латинские буквы, цифры, точка, дефис, подчёркивание; "
                           "начинается с буквы или цифры."))
    return login


async def find_by_login(session: AsyncSession, login: str) -> Staff | None:
    return await session.scalar(select(Staff).where(Staff.login == normalise_login(login)))


async def ensure_login(session: AsyncSession, staff: Staff) -> str:
    """Give a staff member without a login a default one: `id<telegram id>`, else `staff<id>`."""
    if staff.login:
        return staff.login
    base = f"id{staff.telegram_id}" if staff.telegram_id else f"staff{staff.id}"
    login, n = base, 1
    while await session.scalar(select(Staff.id).where(Staff.login == login)) is not None:
        n += 1
        login = f"{base}-{n}"
    staff.login = login
    await session.flush()
    return login


async def set_login(session: AsyncSession, staff: Staff, login: str) -> str:
    login = check_login_name(login)
    taken = await session.scalar(select(Staff.id).where(Staff.login == login, Staff.id != staff.id))
    if taken is not None:
        raise AuthError(N_("Логин «{login}» уже занят."), login=login)
    staff.login = login
    await session.flush()
    return login


async def set_password(
    session: AsyncSession, staff: Staff, password: str, *, now: datetime, by_staff_id: int | None,
    ip: str | None = None,
) -> None:
    """Set a new password: it must pass the policy; every open session of the staff member ends
    (a stolen cookie dies with the old password) and the lockout is lifted."""
    check_password_policy(password)
    await ensure_login(session, staff)
    staff.password_hash = await hash_password(password)
    staff.failed_logins = 0
    staff.locked_until = None
    await revoke_all_sessions(session, staff.id, now=now)
    record(session, staff_id=by_staff_id, action="password.set", entity="staff", entity_id=staff.id, at=now,
           ip=ip)
    await session.flush()


# --- signing in ---------------------------------------------------------------------------------------


class LoginOutcome(StrEnum):
    ok = "ok"
    bad = "bad"  # unknown login, wrong password, inactive account: the same answer for all
    locked = "locked"  # the account is locked until `locked_until`
    throttled = "throttled"  # too many unknown logins from this address


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    staff: Staff | None = None
    locked_until: datetime | None = None


class IpThrottle:
    """Failed sign-ins with unknown logins, per address, in memory.

    In memory on purpose: the admin is one process, and losing the counts on restart costs an attacker
    a restart of our service, which they cannot cause. Known logins have the durable lockout in the
    database instead. The table is bounded, so a flood of addresses cannot grow it without limit.
    """

    def __init__(self, limit: int = 20, window: timedelta = timedelta(minutes=15), size: int = 10_000) -> None:
        self.limit = limit
        self.window = window
        self.size = size
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    def _recent(self, ip: str, now: datetime) -> deque[datetime]:
        times = self._failures.get(ip)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[ip]
        return times

    def blocked(self, ip: str | None, now: datetime) -> bool:
        return ip is not None and len(self._recent(ip, now)) >= self.limit

    def failed(self, ip: str | None, now: datetime) -> None:
        if ip is None:
            return
        times = self._recent(ip, now)
        if not times:
            self._failures[ip] = times
        times.append(now)
        self._failures.move_to_end(ip)
        while len(self._failures) > self.size:
            self._failures.popitem(last=False)


async def check_login(
    session: AsyncSession, login: str, password: str, *, now: datetime, ip: str | None = None,
    throttle: IpThrottle | None = None,
) -> LoginResult:
    """Check a login and password; count failures, lock after LOCK_AFTER in a row, audit everything."""
    if throttle is not None and throttle.blocked(ip, now):
        record(session, staff_id=None, action="login.throttled", at=now, ip=ip)
        return LoginResult(LoginOutcome.throttled)
    staff = await find_by_login(session, login) if login.strip() else None
    if staff is None or not staff.is_active or not staff.password_hash:
        await verify_password(None, password)
        if throttle is not None and staff is None:
            throttle.failed(ip, now)
        # The typed login is not recorded: people type their password into it by mistake.
        reason = "unknown_login" if staff is None else ("inactive" if not staff.is_active else "no_password")
        record(session, staff_id=None if staff is None else staff.id, action="login.failed", at=now, ip=ip,
               entity=None if staff is None else "staff", entity_id=None if staff is None else staff.id,
               details={"reason": reason})
        return LoginResult(LoginOutcome.bad)
    if staff.locked_until is not None and staff.locked_until > now:
        record(session, staff_id=staff.id, action="login.locked", entity="staff", entity_id=staff.id, at=now,
               ip=ip, details={"until": staff.locked_until.isoformat(), "attempt": True})
        return LoginResult(LoginOutcome.locked, staff, staff.locked_until)
    if not await verify_password(staff.password_hash, password):
        staff.failed_logins += 1
        record(session, staff_id=staff.id, action="login.failed", entity="staff", entity_id=staff.id, at=now,
               ip=ip, details={"reason": "wrong_password", "failures": staff.failed_logins})
        if staff.failed_logins >= LOCK_AFTER:
            # The counter starts again: after the lock, another LOCK_AFTER tries, another lock.
            staff.locked_until = now + LOCK_FOR
            staff.failed_logins = 0
            record(session, staff_id=staff.id, action="login.locked", entity="staff", entity_id=staff.id,
                   at=now, ip=ip, details={"until": staff.locked_until.isoformat(), "failures": LOCK_AFTER})
            await session.flush()
            return LoginResult(LoginOutcome.locked, staff, staff.locked_until)
        await session.flush()
        return LoginResult(LoginOutcome.bad)
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    if HASHER.check_needs_rehash(staff.password_hash):
        staff.password_hash = await hash_password(password)
    record(session, staff_id=staff.id, action="login.ok", entity="staff", entity_id=staff.id, at=now, ip=ip)
    await session.flush()
    return LoginResult(LoginOutcome.ok, staff)


# --- sessions -------------------------------------------------------------------------------------------


async def create_session(
    session: AsyncSession, staff: Staff, *, now: datetime, ip: str | None = None, user_agent: str | None = None
) -> str:
    """A new admin session; returns the token for the (encrypted) cookie. Only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(id=token_hash(token), staff_id=staff.id, created_at=now, last_seen_at=now,
                             expires_at=now + SESSION_IDLE, ip=ip and ip[:64],
                             user_agent=user_agent and user_agent[:256]))
    await session.flush()
    return token


async def session_staff(session: AsyncSession, token: str, *, now: datetime) -> Staff | None:
    """The staff member of a live session (not revoked, not expired, account active), or None.

    Slides the expiry: each use moves it to now + SESSION_IDLE, never beyond SESSION_MAX after login;
    the row is written at most once per TOUCH_EVERY, so page loads do not each cost a write.
    """
    row = await session.get(StaffSession, token_hash(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    staff = await session.get(Staff, row.staff_id)
    if staff is None or not staff.is_active:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = min(now + SESSION_IDLE, row.created_at + SESSION_MAX)
        await session.flush()
    return staff


async def revoke_session(session: AsyncSession, token: str, *, now: datetime, ip: str | None = None) -> None:
    """Logout: the row is revoked, so the same cookie presented again opens nothing."""
    row = await session.get(StaffSession, token_hash(token))
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = now
    record(session, staff_id=row.staff_id, action="logout", entity="staff", entity_id=row.staff_id, at=now,
           ip=ip)
    await session.flush()


async def revoke_all_sessions(session: AsyncSession, staff_id: int, *, now: datetime) -> int:
    result = await session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


# --- invites ----------------------------------------------------------------------------------------------


async def create_invite(session: AsyncSession, staff: Staff, created_by: Staff | None, now: datetime) -> str:
    """A one-time link token to set a password (valid INVITE_VALID); only its hash is stored."""
    if not staff.is_active:
        raise AuthError(N_("Сотрудник отключён: приглашение не создано."))
    token = secrets.token_urlsafe(32)
    session.add(StaffInvite(token_hash=token_hash(token), staff_id=staff.id, created_at=now,
                            created_by_id=None if created_by is None else created_by.id,
                            expires_at=now + INVITE_VALID))
    await ensure_login(session, staff)
    record(session, staff_id=None if created_by is None else created_by.id, action="invite.create",
           entity="staff", entity_id=staff.id, at=now)
    await session.flush()
    return token


async def find_invite(session: AsyncSession, token: str, *, now: datetime) -> tuple[StaffInvite, Staff] | None:
    """A usable invite (not used, not expired, the account active) and its staff member."""
    invite = await session.scalar(select(StaffInvite).where(StaffInvite.token_hash == token_hash(token)))
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        return None
    staff = await session.get(Staff, invite.staff_id)
    if staff is None or not staff.is_active:
        return None
    return invite, staff


async def consume_invite(
    session: AsyncSession, token: str, password: str, *, now: datetime, ip: str | None = None
) -> Staff:
    """Use an invite once: set the password (policy checked first, so a weak one keeps the link usable)."""
    found = await find_invite(session, token, now=now)
    if found is None:
        raise AuthError(N_("Ссылка недействительна: она уже использована или устарела. Попросите новую "
                           "командой /web в боте."))
    invite, staff = found
    check_password_policy(password)
    # Marked used in the same UPDATE that checks it is unused: two tabs cannot both use one link.
    used = await session.execute(
        update(StaffInvite).where(StaffInvite.id == invite.id, StaffInvite.used_at.is_(None)).values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not used.rowcount:  # type: ignore[attr-defined]
        raise AuthError(N_("Ссылка недействительна: она уже использована или устарела. Попросите новую "
                           "командой /web в боте."))
    await set_password(session, staff, password, now=now, by_staff_id=staff.id, ip=ip)
    record(session, staff_id=staff.id, action="invite.use", entity="staff", entity_id=staff.id, at=now, ip=ip)
    return staff

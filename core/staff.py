"""Staff accounts and their roles; the admin's staff page changes them here, audited."""
from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.i18n import gettext_for
from core.outbox import enqueue_message
from core.staff_auth import (
    INVITE_VALID,
    N_,
    AuthError,
    create_invite,
    ensure_login,
    revoke_all_sessions,
    set_login,
)
from db.models import Organisation, OutboxPriority, Role, Staff, StaffRole

Gettext = Callable[[str], str]

# Who may see which figures (/report, `mcu report`, the admin's reports page): domain.md.
# `core.reports.scope_for` applies these rules; keep them here, in one place.
# The centre's people see any scope they choose.
REPORT_ANY_SCOPE_ROLES = frozenset({Role.curator, Role.head, Role.analyst, Role.admin})
# The officer of each channel of the centre: triages its items, sees that channel only in the
# admin and the reports (and rates recipients on it).
CHANNEL_OFFICER = {"pos": Role.pos_officer, "im": Role.im_officer}
REPORT_CHANNEL_ROLES = {role: channel for channel, role in CHANNEL_OFFICER.items()}
# Who may ask for the centre's figures; a recipient is not among them, it gets its own
# organisation's figures only (REPORT_OWN_ORGANISATION_ROLES).
REPORT_ROLES = REPORT_ANY_SCOPE_ROLES | frozenset(REPORT_CHANNEL_ROLES)
REPORT_OWN_ORGANISATION_ROLES = frozenset({Role.recipient})


def parse_roles(names: Iterable[str]) -> list[Role]:
    roles: list[Role] = []
    for name in names:
        for part in name.split(","):
            part = part.strip()
            if not part:
                continue
            try:
                roles.append(Role(part))
            except ValueError:
                known = ", ".join(r.value for r in Role)
                raise ValueError(f"unknown role {part!r}; known roles: {known}") from None
    if not roles:
        raise ValueError("at least one role is required")
    return roles


async def find_staff_by_telegram(session: AsyncSession, telegram_id: int) -> Staff | None:
    # Runs on every update and most writers are citizens: a bare id lookup first, the full
    # record (with roles) only for staff.
    staff_id = await session.scalar(
        select(Staff.id).where(Staff.telegram_id == telegram_id, Staff.is_active.is_(True))
    )
    return None if staff_id is None else await session.get(Staff, staff_id)


async def add_staff(
    session: AsyncSession,
    *,
    telegram_id: int | None,
    roles: Iterable[Role],
    name: str | None = None,
    email: str | None = None,
) -> tuple[Staff, bool]:
    """Create a staff member, or add roles to the existing one with that Telegram id.

    Returns the staff member and whether it was created.
    """
    staff = None
    if telegram_id is not None:
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
    created = staff is None
    if staff is None:
        staff = Staff(telegram_id=telegram_id, name=name or f"Сотрудник {telegram_id}", email=email)
        session.add(staff)
        await session.flush()
        await session.refresh(staff, ["roles"])
    else:
        if name:
            staff.name = name
        if email:
            staff.email = email
        staff.is_active = True
    have = {r.role for r in staff.roles}
    for role in roles:
        if role.value not in have:
            staff.roles.append(StaffRole(role=role.value))
            have.add(role.value)
    await session.flush()
    return staff, created


# --- the admin's staff page ---------------------------------------------------------------------------

# Role names as staff read them (the page, the audit log).
ROLE_LABELS = {
    Role.recipient: N_("исполнитель (ответственный получатель)"),
    Role.head: N_("руководитель МЦУ"),
    Role.curator: N_("куратор МЦУ"),
    Role.analyst: N_("аналитик"),
    Role.pos_officer: N_("ответственный за ПОС"),
    Role.im_officer: N_("ответственный за «Инцидент менеджмент»"),
    Role.gospublic_officer: N_("ответственный за «Госпаблики»"),
    Role.admin: N_("администратор системы"),
}
# Who may open the staff page and the audit log (Role.admin always may).
STAFF_MANAGERS = frozenset({Role.head, Role.curator})


class StaffError(AuthError):
    """A staff change that cannot be made; `localized(_)` gives the reason in the reader's language."""


def _snapshot(staff: Staff) -> dict[str, Any]:
    return {"name": staff.name, "telegram_id": staff.telegram_id, "login": staff.login, "email": staff.email,
            "organisation_id": staff.organisation_id, "roles": sorted(r.role for r in staff.roles),
            "is_active": staff.is_active}


def _diff(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    changed = [k for k in new if old.get(k) != new[k]]
    return {k: old.get(k) for k in changed}, {k: new[k] for k in changed}


async def list_staff(session: AsyncSession) -> list[Staff]:
    """Everybody, active first, by name."""
    return list(await session.scalars(select(Staff).order_by(Staff.is_active.desc(), Staff.name, Staff.id)))


async def _check(session: AsyncSession, actor: Staff, staff: Staff | None, *, name: str, roles: set[Role],
                 organisation_id: int | None, telegram_id: int | None) -> None:
    if not name.strip():
        raise StaffError(N_("Укажите ФИО."))
    if len(name) > 256:
        raise StaffError(N_("ФИО длиннее 256 символов."))
    if not roles:
        raise StaffError(N_("Отметьте хотя бы одну роль."))
    before = staff.role_set if staff is not None else frozenset()
    if (Role.admin in roles) != (Role.admin in before) and Role.admin not in actor.role_set:
        raise StaffError(N_("Роль администратора системы даёт и снимает только администратор."))
    if staff is not None and Role.admin in before and Role.admin not in actor.role_set:
        raise StaffError(N_("Учётную запись администратора системы меняет только администратор."))
    if staff is not None and staff.id == actor.id and not (
        roles & (STAFF_MANAGERS | {Role.admin})
    ):
        raise StaffError(N_("Нельзя снять с себя права на управление сотрудниками: попросите об этом коллегу."))
    if Role.recipient in roles and organisation_id is None:
        raise StaffError(N_("Исполнителю нужна организация: выберите её."))
    if organisation_id is not None and await session.get(Organisation, organisation_id) is None:
        raise StaffError(N_("Нет организации № {id}."), id=organisation_id)
    if telegram_id is not None:
        if telegram_id <= 0:
            raise StaffError(N_("Telegram id — положительное число."))
        other = await session.scalar(select(Staff).where(Staff.telegram_id == telegram_id))
        if other is not None and (staff is None or other.id != staff.id):
            raise StaffError(N_("Telegram id {tid} уже у сотрудника «{name}»."), tid=telegram_id, name=other.name)


async def create_staff(
    session: AsyncSession, actor: Staff, *, name: str, roles: Iterable[Role], now: datetime,
    telegram_id: int | None = None, login: str | None = None, email: str | None = None,
    organisation_id: int | None = None, ip: str | None = None,
) -> Staff:
    """A new staff member from the admin (the CLI's `add_staff` merges by Telegram id instead)."""
    wanted = set(roles)
    name = name.strip()
    await _check(session, actor, None, name=name, roles=wanted, organisation_id=organisation_id,
                 telegram_id=telegram_id)
    staff = Staff(telegram_id=telegram_id, name=name, email=(email or "").strip() or None,
                  organisation_id=organisation_id, created_at=now)
    staff.roles = [StaffRole(role=r.value) for r in sorted(wanted)]
    session.add(staff)
    await session.flush()
    if login:
        await set_login(session, staff, login)
    else:
        await ensure_login(session, staff)
    record(session, staff_id=actor.id, action="staff.create", entity="staff", entity_id=staff.id, at=now, ip=ip,
           details={"old": None, "new": _snapshot(staff)})
    await session.flush()
    return staff


async def update_staff(
    session: AsyncSession, actor: Staff, staff: Staff, *, name: str, roles: Iterable[Role], now: datetime,
    telegram_id: int | None = None, login: str | None = None, email: str | None = None,
    organisation_id: int | None = None, ip: str | None = None,
) -> bool:
    """Change name, Telegram id, login, e-mail, roles and organisation; returns whether anything changed."""
    wanted = set(roles)
    name = name.strip()
    await _check(session, actor, staff, name=name, roles=wanted, organisation_id=organisation_id,
                 telegram_id=telegram_id)
    old = _snapshot(staff)
    staff.name = name
    staff.telegram_id = telegram_id
    staff.email = (email or "").strip() or None
    staff.organisation_id = organisation_id
    if login and login.strip().lower() != staff.login:
        await set_login(session, staff, login)
    have = {Role(r.role): r for r in staff.roles}
    for role, row in have.items():
        if role not in wanted:
            staff.roles.remove(row)
    for role in sorted(wanted - set(have)):
        staff.roles.append(StaffRole(role=role.value))
    await session.flush()
    before, after = _diff(old, _snapshot(staff))
    if not after:
        return False
    # No sign-out needed when rights change: every request reads the roles afresh (admin/auth.py).
    record(session, staff_id=actor.id, action="staff.update", entity="staff", entity_id=staff.id, at=now, ip=ip,
           details={"old": before, "new": after})
    await session.flush()
    return True


async def set_active(session: AsyncSession, actor: Staff, staff: Staff, active: bool, *, now: datetime,
                     ip: str | None = None) -> None:
    """Switch an account off (its sessions end at once; it keeps its history) or back on."""
    if staff.is_active == active:
        return
    if not active and staff.id == actor.id:
        raise StaffError(N_("Нельзя отключить самого себя."))
    if Role.admin in staff.role_set and Role.admin not in actor.role_set:
        raise StaffError(N_("Учётную запись администратора системы меняет только администратор."))
    staff.is_active = active
    if not active:
        await revoke_all_sessions(session, staff.id, now=now)
    record(session, staff_id=actor.id, action="staff.activate" if active else "staff.deactivate", entity="staff",
           entity_id=staff.id, at=now, ip=ip)
    await session.flush()


async def unlock(session: AsyncSession, actor: Staff, staff: Staff, *, now: datetime, ip: str | None = None) -> None:
    """Lift a login lockout before it runs out (the member called: it was them)."""
    staff.locked_until = None
    staff.failed_logins = 0
    record(session, staff_id=actor.id, action="login.unlock", entity="staff", entity_id=staff.id, at=now, ip=ip)
    await session.flush()


def invite_text(_: Gettext, link: str, login: str) -> str:
    """The bot message with a one-time link (HTML, as the outbox sends it)."""
    hours = int(INVITE_VALID.total_seconds() // 3600)
    return _("Ссылка для входа в админку МЦУ — задайте пароль, и вы войдёте:\n{link}\n\nВаш логин: {login}\n"
             "Ссылка действует {hours} ч и только один раз. Никому её не пересылайте.").format(
        link=html.escape(link), login=html.escape(login), hours=hours)


async def send_invite(session: AsyncSession, staff: Staff, created_by: Staff | None, *, now: datetime,
                      base_url: str) -> str:
    """Create an invite and queue the bot message with its link; returns the link."""
    if staff.telegram_id is None:
        raise StaffError(N_("У сотрудника нет Telegram id: бот не сможет прислать ссылку."))
    token = await create_invite(session, staff, created_by, now)
    link = f"{base_url.rstrip('/')}/invite/{token}"
    enqueue_message(session, staff.telegram_id, invite_text(gettext_for(staff.language), link, staff.login or ""),
                    priority=OutboxPriority.alert, now=now)
    return link

"""Staff accounts and their roles."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Role, Staff, StaffRole

# Who may ask for the centre's figures (/report): domain.md.
REPORT_ROLES = frozenset({Role.curator, Role.head, Role.analyst, Role.pos_officer, Role.im_officer})


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

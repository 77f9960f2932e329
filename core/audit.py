"""The audit log of staff actions outside an item's own history: logins, staff accounts, invites.

`core/routing.py` and `core/options.py` write their own rows in the same shape; the admin's /audit
page reads them all. Never put a password, a token or a citizen's data in `details`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry


def record(
    session: AsyncSession,
    *,
    staff_id: int | None,
    action: str,
    at: datetime,
    entity: str | None = None,
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Add one row (flushed with the caller's transaction: the action and its record stand or fall
    together)."""
    entry = AuditEntry(at=at, staff_id=staff_id, action=action, entity=entity, entity_id=entity_id,
                       details=details, ip=(ip or None) and ip[:64])
    session.add(entry)
    return entry


# --- reading it (the admin's /audit page) ---------------------------------------------------------------

PAGE_SIZE = 50


@dataclass(frozen=True)
class Cursor:
    """A position in the log, newest first: (at, id) of a row, written into the page's links."""

    at: datetime
    id: int

    def encode(self) -> str:
        return f"{int(self.at.timestamp() * 1_000_000)}.{self.id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """None for a missing or mangled cursor: the page starts from the newest instead of failing."""
        if not value:
            return None
        micros, _, row_id = value.partition(".")
        try:
            return cls(datetime.fromtimestamp(int(micros) / 1_000_000, UTC), int(row_id))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    older: Cursor | None  # the next page (further back), if there is one
    newer: Cursor | None  # the previous page (closer to now), if there is one


async def audit_page(
    session: AsyncSession, *, staff_id: int | None = None, action: str | None = None,
    before: Cursor | None = None, after: Cursor | None = None, limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of the log, newest first, by keyset on (at, id): as fast on page 1000 as on page 1.

    `action` matches exactly, or a family when it ends with a dot ("login." → every login event).
    """
    query = select(AuditEntry)
    if staff_id is not None:
        query = query.where(AuditEntry.staff_id == staff_id)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True) if action.endswith(".")
                            else AuditEntry.action == action)
    key = tuple_(AuditEntry.at, AuditEntry.id)
    if after is not None:  # going back towards now: read upwards, then turn the page around
        rows = list(await session.scalars(
            query.where(key > tuple_(literal(after.at, AuditEntry.at.type), literal(after.id)))
            .order_by(AuditEntry.at, AuditEntry.id).limit(limit + 1)))
        more_newer = len(rows) > limit
        rows = rows[:limit][::-1]
        return AuditPage(rows, _cursor(rows[-1]) if rows else None, _cursor(rows[0]) if rows and more_newer else None)
    if before is not None:
        query = query.where(key < tuple_(literal(before.at, AuditEntry.at.type), literal(before.id)))
    rows = list(await session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)))
    more_older = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, _cursor(rows[-1]) if rows and more_older else None,
                     _cursor(rows[0]) if rows and before is not None else None)


def _cursor(entry: AuditEntry) -> Cursor:
    return Cursor(entry.at, entry.id)


async def audit_actions(session: AsyncSession) -> list[str]:
    """The actions the log holds, for the filter."""
    return sorted(await session.scalars(select(AuditEntry.action).distinct()))

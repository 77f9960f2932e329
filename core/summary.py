"""A quick count of the centre's items: what /report shows until the full report lands."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OPEN_STATUSES, Item


@dataclass(frozen=True, slots=True)
class IntakeSummary:
    today: int
    week: int
    open: int
    overdue: int
    total: int


def local_midnight(now: datetime, tz: ZoneInfo, days_back: int = 0) -> datetime:
    day = now.astimezone(tz).date() - timedelta(days=days_back)
    return datetime.combine(day, time(0), tzinfo=tz)


async def intake_summary(session: AsyncSession, now: datetime, tz: ZoneInfo) -> IntakeSummary:
    today_start = local_midnight(now, tz)
    week_start = local_midnight(now, tz, days_back=6)
    open_statuses = [s.value for s in OPEN_STATUSES]
    count = func.count(Item.id)
    row = (
        await session.execute(
            select(
                count.filter(Item.received_at >= today_start),
                count.filter(Item.received_at >= week_start),
                count.filter(Item.status.in_(open_statuses)),
                count.filter(and_(Item.status.in_(open_statuses), Item.due_answer_at < now)),
                count,
            )
        )
    ).one()
    return IntakeSummary(*(int(v or 0) for v in row))

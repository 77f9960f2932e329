"""/directories: the index of the reference directories, with counts; each directory is a dir_* module.

Read: head, curator, analyst (and admin). Change: head, curator (and admin). Every change goes through
the same core/ function the bot and the `mcu` commands use.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import requires
from admin.views import (
    dir_calendar,
    dir_deadlines,
    dir_orgs,
    dir_routes,
    dir_settlements,
    dir_topics,
)
from admin.views.dir_common import VIEW_ROLES, may_edit, now_of, read_session, render
from db.models import (
    CalendarOverride,
    DeadlinePolicy,
    Organisation,
    Role,
    RoutingRule,
    Settlement,
    Staff,
    StaffRole,
    Theme,
    Topic,
)


async def _count(session: AsyncSession, *terms: Any, of: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(of).where(*terms)) or 0)


async def counts(session: AsyncSession, today: date) -> dict[str, int]:
    officials = select(func.count(func.distinct(Staff.id))).join(StaffRole, StaffRole.staff_id == Staff.id).where(
        Staff.is_active.is_(True), StaffRole.role == Role.recipient.value, Staff.organisation_id.is_not(None))
    return {
        "topics": await _count(session, of=Topic),
        "accelerated": await _count(session, Topic.accelerated.is_(True), of=Topic),
        "themes": await _count(session, Theme.is_active.is_(True), of=Theme),
        "themes_off": await _count(session, Theme.is_active.is_(False), of=Theme),
        "settlements": await _count(session, Settlement.is_active.is_(True), of=Settlement),
        "settlements_off": await _count(session, Settlement.is_active.is_(False), of=Settlement),
        "organisations": await _count(session, Organisation.is_active.is_(True), of=Organisation),
        "organisations_off": await _count(session, Organisation.is_active.is_(False), of=Organisation),
        "officials": int(await session.scalar(officials) or 0),
        "rules": await _count(session, RoutingRule.is_active.is_(True), of=RoutingRule),
        "rules_off": await _count(session, RoutingRule.is_active.is_(False), of=RoutingRule),
        "policies": await _count(session, of=DeadlinePolicy),
        "overrides": await _count(session, CalendarOverride.day >= date(today.year, 1, 1), of=CalendarOverride),
    }


@requires(*VIEW_ROLES)
async def index(request: web.Request) -> web.StreamResponse:
    today = now_of(request).date()
    async with read_session(request) as session:
        figures = await counts(session, today)
    return await render(request, "directories.html", {"counts": figures, "year": today.year,
                                                      "may_edit": may_edit(request)})


def setup(app: web.Application) -> None:
    app.router.add_get("/directories", index)
    for module in (dir_topics, dir_settlements, dir_orgs, dir_routes, dir_deadlines, dir_calendar):
        module.setup(app)

"""What the directory and settings pages share: who may look and who may change, one transaction per
change with its audit rows stamped with the visitor's address, and the form round trip — a change
that goes through redirects (POST → redirect → GET); a refused one shows the page again with the
reason and what was typed.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import MANAGER_ROLES, client_ip, current_staff, flash, has_role
from admin.i18n import page_gettext
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS
from core.routing import N_, RoutingError
from db.models import AuditEntry, Role

# Who may read the directories, and who may change them (Role.admin passes every check).
VIEW_ROLES = (*MANAGER_ROLES, Role.analyst)
EDIT_ROLES = MANAGER_ROLES
Form = MultiDictProxy[Any]
Gettext = Callable[[str], str]


def now_of(request: web.Request) -> datetime:
    return request.app[CLOCK]()


def local_time(request: web.Request) -> Callable[[datetime | None], str]:
    """For templates: an aware UTC moment as the district's wall clock."""
    tz = request.app[SETTINGS].tz

    def shown(moment: datetime | None) -> str:
        return "—" if moment is None else moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")

    return shown


def may_edit(request: web.Request) -> bool:
    return has_role(current_staff(request), EDIT_ROLES)


def stamp_ip(session: AsyncSession, ip: str | None) -> None:
    """core/ writes the audit rows and knows nothing of HTTP; the request knows the address. Every
    audit row this session flushes gets it."""

    def before_flush(sync_session: Any, _context: Any, _instances: Any) -> None:
        for row in sync_session.new:
            if isinstance(row, AuditEntry) and row.ip is None:
                row.ip = ip

    if ip:
        event.listen(session.sync_session, "before_flush", before_flush)


@asynccontextmanager
async def change_session(request: web.Request) -> AsyncIterator[tuple[AsyncSession, int]]:
    """A transaction for one change: (session, the staff member's id). An exception rolls it all back."""
    staff = current_staff(request)
    async with request.app[SESSIONMAKER]() as session, session.begin():
        stamp_ip(session, client_ip(request))
        yield session, staff.id


@asynccontextmanager
async def read_session(request: web.Request) -> AsyncIterator[AsyncSession]:
    async with request.app[SESSIONMAKER]() as session, session.begin():
        yield session


@dataclass(frozen=True)
class Typed:
    """What the visitor typed into the form that was refused, so the page shows it again."""

    form: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)
    lists: Mapping[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, form: Form) -> Typed:
        return cls(name, {k: v for k, v in form.items() if isinstance(v, str)},
                   {k: [v for v in form.getall(k) if isinstance(v, str)] for k in form})

    def get(self, form: str, name: str, default: Any = "") -> Any:
        return self.values.get(name, "") if form == self.form else default

    def checked(self, form: str, name: str, default: bool) -> bool:
        return bool(self.values.get(name)) if form == self.form else default

    def chosen(self, form: str, name: str, default: list[str]) -> list[str]:
        return self.lists.get(name, []) if form == self.form else default


NOTHING_TYPED = Typed()
Work = Callable[[AsyncSession, int, datetime, Form], Awaitable[str]]
Page = Callable[[web.Request, Typed], Awaitable[dict[str, Any]]]


async def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    if aiohttp_jinja2.get_env(request.app).is_async:
        return await aiohttp_jinja2.render_template_async(template, request, context, status=status)
    return aiohttp_jinja2.render_template(template, request, context, status=status)


async def submit(request: web.Request, *, form_name: str, work: Work, done: str | Callable[[], str],
                 template: str, page: Page) -> web.StreamResponse:
    """Run one change. Done: flash its message, redirect to `done` (or where `done()` says, once the
    work knows — a new row's page). Refused (core's RoutingError, or a
    field that is not a number): nothing is saved; the page again, status 400, the reason flashed and
    the typed values kept."""
    form = await request.post()
    _ = page_gettext(request)
    try:
        async with change_session(request) as (session, staff_id):
            message = await work(session, staff_id, now_of(request), form)
    except RoutingError as exc:
        flash(request, exc.localized(_), "error")
        return await render(request, template, await page(request, Typed.of(form_name, form)), status=400)
    flash(request, message)
    raise web.HTTPSeeOther(done if isinstance(done, str) else done())


# --- reading form fields ------------------------------------------------------------------------------


def text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def checked(form: Form, name: str) -> bool:
    return text(form, name) not in ("", "0", "off", "false")


def number(form: Form, name: str, what: str) -> int | None:
    """An optional whole number (an id from a select, a Telegram id); empty is None."""
    value = text(form, name)
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise RoutingError(N_("Ожидается целое число ({what}): «{value}»."), what=what, value=value) from None


def path_id(request: web.Request, name: str = "id") -> int:
    try:
        return int(request.match_info[name])
    except (KeyError, ValueError):
        raise web.HTTPNotFound() from None


@asynccontextmanager
async def or_404() -> AsyncIterator[None]:
    """A page about a row that does not exist is a 404, not a refusal."""
    try:
        yield
    except RoutingError:
        raise web.HTTPNotFound() from None

"""/directories/settlements: the district's settlements (add, rename, kind, coordinates, switch off and
on), through core.directories."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import requires
from admin.i18n import page_gettext
from admin.views.dir_common import (
    EDIT_ROLES,
    NOTHING_TYPED,
    VIEW_ROLES,
    Form,
    Typed,
    checked,
    may_edit,
    path_id,
    read_session,
    render,
    submit,
    text,
)
from core.directories import add_settlement, list_settlements, update_settlement

LIST = "/directories/settlements"
TEMPLATE = "dir_settlements.html"


async def _page(request: web.Request, typed: Typed) -> dict[str, Any]:
    async with read_session(request) as session:
        settlements = await list_settlements(session)
    return {"settlements": settlements, "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def settlements_page(request: web.Request) -> web.StreamResponse:
    return await render(request, TEMPLATE, await _page(request, NOTHING_TYPED))


def _fields(form: Form) -> dict[str, Any]:
    return {"name": text(form, "name"), "kind": text(form, "kind"), "latitude": text(form, "latitude"),
            "longitude": text(form, "longitude")}


@requires(*EDIT_ROLES)
async def create(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        settlement = await add_settlement(session, **_fields(form), staff_id=staff_id, now=now)
        return _("Населённый пункт «{name}» добавлен.").format(name=settlement.name)

    return await submit(request, form_name="add", work=work, done=LIST, template=TEMPLATE, page=_page)


@requires(*EDIT_ROLES)
async def edit(request: web.Request) -> web.StreamResponse:
    settlement_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        settlement = await update_settlement(session, settlement_id, staff_id=staff_id, now=now, **_fields(form))
        return _("Населённый пункт «{name}» сохранён.").format(name=settlement.name)

    return await submit(request, form_name=f"s-{settlement_id}", work=work, done=f"{LIST}#s-{settlement_id}",
                        template=TEMPLATE, page=_page)


@requires(*EDIT_ROLES)
async def switch(request: web.Request) -> web.StreamResponse:
    settlement_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        settlement = await update_settlement(session, settlement_id, staff_id=staff_id, now=now,
                                             is_active=checked(form, "active"))
        message = _("«{name}» снова в списке.") if settlement.is_active else \
            _("«{name}» отключён: бот его больше не предлагает, старые обращения его сохраняют.")
        return message.format(name=settlement.name)

    return await submit(request, form_name=f"switch-{settlement_id}", work=work, done=f"{LIST}#s-{settlement_id}",
                        template=TEMPLATE, page=_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, settlements_page)
    app.router.add_post(LIST, create)
    app.router.add_post(LIST + "/{id}", edit)
    app.router.add_post(LIST + "/{id}/active", switch)

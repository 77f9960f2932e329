"""/directories/organisations: the organisations that answer items and their officials, through
core.routing (the same functions as `mcu org` and `mcu official`)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import func, select
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
    number,
    or_404,
    path_id,
    read_session,
    render,
    submit,
    text,
)
from core.directories import DirectoryNames
from core.routing import (
    N_,
    ORGANISATION_KINDS,
    add_official,
    add_organisation,
    get_organisation,
    list_officials,
    list_organisations,
    list_rules,
    remove_official,
    update_organisation,
)
from db.models import Role, RoutingRule, Staff, StaffRole

LIST = "/directories/organisations"


def _fields(form: Form) -> dict[str, Any]:
    return {"name": text(form, "name"), "short_name": text(form, "short_name"), "kind": text(form, "kind"),
            "email": text(form, "email"), "phone": text(form, "phone")}


async def _list_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    async with read_session(request) as session:
        organisations = await list_organisations(session)
        officials = dict((await session.execute(
            select(Staff.organisation_id, func.count(func.distinct(Staff.id)))
            .join(StaffRole, StaffRole.staff_id == Staff.id)
            .where(Staff.is_active.is_(True), StaffRole.role == Role.recipient.value)
            .group_by(Staff.organisation_id))).all())
        rules = dict((await session.execute(
            select(RoutingRule.organisation_id, func.count())
            .where(RoutingRule.is_active.is_(True)).group_by(RoutingRule.organisation_id))).all())
    return {"organisations": organisations, "officials": officials, "rules": rules, "kinds": ORGANISATION_KINDS,
            "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def list_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_orgs.html", await _list_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def create(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)
    created: list[int] = []

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        org = await add_organisation(session, **_fields(form), staff_id=staff_id, now=now)
        created.append(org.id)
        return _("Организация «{name}» добавлена. Добавьте ей исполнителей и правило распределения.").format(
            name=org.name)

    return await submit(request, form_name="add", work=work, done=lambda: f"{LIST}/{created[0]}",
                        template="dir_orgs.html", page=_list_page)


async def _org_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    org_id = path_id(request)
    async with read_session(request) as session, or_404():
        org = await get_organisation(session, org_id)
        officials = await list_officials(session, org_id)
        names = DirectoryNames(session, page_gettext(request))
        rules = [(rule, await names.rule_keys(rule)) for rule in await list_rules(session, active_only=False)
                 if rule.organisation_id == org_id]
    return {"org": org, "officials": officials, "rules": rules, "kinds": ORGANISATION_KINDS, "typed": typed,
            "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def org_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_org.html", await _org_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def edit(request: web.Request) -> web.StreamResponse:
    org_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        org = await update_organisation(session, org_id, staff_id=staff_id, now=now, **_fields(form),
                                        is_active=checked(form, "is_active"))
        return _("Организация «{name}» сохранена.").format(name=org.name)

    return await submit(request, form_name="org", work=work, done=f"{LIST}/{org_id}", template="dir_org.html",
                        page=_org_page)


@requires(*EDIT_ROLES)
async def create_official(request: web.Request) -> web.StreamResponse:
    org_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        person = await add_official(session, organisation_id=org_id, name=text(form, "name"),
                                    telegram_id=number(form, "telegram_id", N_("Telegram id")),
                                    email=text(form, "email") or None, position=text(form, "position") or None,
                                    staff_id=staff_id, now=now)
        if person.telegram_id:
            return _("Исполнитель {name} добавлен. Попросите его открыть бота МЦУ и нажать «Старт»: без этого "
                     "Telegram не даст боту ему написать.").format(name=person.name)
        return _("Исполнитель {name} добавлен: без Telegram карточки обращений будут приходить ему на e-mail."
                 ).format(name=person.name)

    return await submit(request, form_name="official", work=work, done=f"{LIST}/{org_id}#officials",
                        template="dir_org.html", page=_org_page)


@requires(*EDIT_ROLES)
async def drop_official(request: web.Request) -> web.StreamResponse:
    org_id, official_id = path_id(request), path_id(request, "staff")
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        person = await remove_official(session, official_id, organisation_id=org_id, staff_id=staff_id, now=now)
        return _("{name} больше не исполнитель этой организации.").format(name=person.name)

    return await submit(request, form_name=f"remove-{official_id}", work=work, done=f"{LIST}/{org_id}#officials",
                        template="dir_org.html", page=_org_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, list_page)
    app.router.add_post(LIST, create)
    app.router.add_get(LIST + "/{id}", org_page)
    app.router.add_post(LIST + "/{id}", edit)
    app.router.add_post(LIST + "/{id}/officials", create_official)
    app.router.add_post(LIST + "/{id}/officials/{staff}/remove", drop_official)

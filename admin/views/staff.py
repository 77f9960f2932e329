"""/staff: staff members, their roles and organisation; add, edit, switch off and on, send an invite.

Every change is a POST through `core.staff` (audited there), then a redirect with a flash.
"""
from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import client_ip, current_staff, flash, requires
from admin.i18n import page_gettext
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS
from core.staff import (
    ROLE_LABELS,
    STAFF_MANAGERS,
    StaffError,
    create_staff,
    list_staff,
    send_invite,
    set_active,
    unlock,
    update_staff,
)
from core.staff_auth import N_
from db.models import Organisation, Role, Staff

EMPTY_FORM: dict[str, Any] = {"name": "", "telegram_id": "", "login": "", "email": "", "organisation_id": "",
                              "roles": []}


def _form_values(form: MultiDictProxy[Any]) -> dict[str, Any]:
    return {
        "name": str(form.get("name", "")).strip(),
        "telegram_id": str(form.get("telegram_id", "")).strip(),
        "login": str(form.get("login", "")).strip(),
        "email": str(form.get("email", "")).strip(),
        "organisation_id": str(form.get("organisation_id", "")).strip(),
        "roles": [str(r) for r in form.getall("roles", [])],
    }


def _staff_values(staff: Staff) -> dict[str, Any]:
    return {"name": staff.name, "telegram_id": "" if staff.telegram_id is None else str(staff.telegram_id),
            "login": staff.login or "", "email": staff.email or "",
            "organisation_id": "" if staff.organisation_id is None else str(staff.organisation_id),
            "roles": sorted(r.role for r in staff.roles)}


def _parse(values: dict[str, Any]) -> dict[str, Any]:
    """Form text → arguments of core.staff; a StaffError names the bad field."""
    def number(text: str, message: str) -> int | None:
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise StaffError(message) from None

    try:
        roles = [Role(r) for r in values["roles"]]
    except ValueError:
        raise StaffError(N_("Неизвестная роль.")) from None
    return {
        "name": values["name"],
        "telegram_id": number(values["telegram_id"], N_("Telegram id — положительное число.")),
        "login": values["login"] or None,
        "email": values["email"] or None,
        "organisation_id": number(values["organisation_id"], N_("Выберите организацию из списка.")),
        "roles": roles,
    }


async def _organisations(session: AsyncSession) -> list[Organisation]:
    return list(await session.scalars(select(Organisation).order_by(Organisation.is_active.desc(), Organisation.name)))


async def _list_page(request: web.Request, values: dict[str, Any], error: str | None, status: int = 200
                     ) -> web.Response:
    async with request.app[SESSIONMAKER]() as session:
        people = await list_staff(session)
        organisations = await _organisations(session)
    return aiohttp_jinja2.render_template("staff.html", request, {
        "people": people, "organisations": organisations, "org_names": {o.id: o.name for o in organisations},
        "role_labels": ROLE_LABELS, "all_roles": list(Role), "form": values, "error": error,
        "now": request.app[CLOCK](), "tz": request.app[SETTINGS].tz,
    }, status=status)


async def _edit_page(request: web.Request, person: Staff, values: dict[str, Any], error: str | None,
                     status: int = 200) -> web.Response:
    async with request.app[SESSIONMAKER]() as session:
        organisations = await _organisations(session)
    return aiohttp_jinja2.render_template("staff.html", request, {
        "person": person, "organisations": organisations, "role_labels": ROLE_LABELS, "all_roles": list(Role),
        "form": values, "error": error, "now": request.app[CLOCK](), "tz": request.app[SETTINGS].tz,
    }, status=status)


@requires(*STAFF_MANAGERS)
async def staff_list(request: web.Request) -> web.StreamResponse:
    return await _list_page(request, dict(EMPTY_FORM), None)


@requires(*STAFF_MANAGERS)
async def staff_create(request: web.Request) -> web.StreamResponse:
    actor = current_staff(request)
    values = _form_values(await request.post())
    _ = page_gettext(request)
    try:
        async with request.app[SESSIONMAKER]() as session, session.begin():
            person = await create_staff(session, actor, now=request.app[CLOCK](), ip=client_ip(request),
                                        **_parse(values))
    except StaffError as exc:
        return await _list_page(request, values, exc.localized(_), status=400)
    flash(request, _("Сотрудник добавлен: {name}, логин {login}. Пароль он задаст по приглашению.")
          .format(name=person.name, login=person.login))
    raise web.HTTPFound(f"/staff/{person.id}")


async def _person(request: web.Request, session: AsyncSession) -> Staff:
    try:
        person_id = int(request.match_info["staff_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    person = await session.get(Staff, person_id)
    if person is None:
        raise web.HTTPNotFound()
    return person


@requires(*STAFF_MANAGERS)
async def staff_page(request: web.Request) -> web.StreamResponse:
    async with request.app[SESSIONMAKER]() as session:
        person = await _person(request, session)
    return await _edit_page(request, person, _staff_values(person), None)


@requires(*STAFF_MANAGERS)
async def staff_update(request: web.Request) -> web.StreamResponse:
    actor = current_staff(request)
    values = _form_values(await request.post())
    _ = page_gettext(request)
    try:
        async with request.app[SESSIONMAKER]() as session, session.begin():
            person = await _person(request, session)
            changed = await update_staff(session, actor, person, now=request.app[CLOCK](), ip=client_ip(request),
                                         **_parse(values))
    except StaffError as exc:
        async with request.app[SESSIONMAKER]() as session:
            person = await _person(request, session)
        return await _edit_page(request, person, values, exc.localized(_), status=400)
    flash(request, _("Изменения сохранены.") if changed else _("Ничего не изменилось."))
    raise web.HTTPFound(f"/staff/{person.id}")


async def _action(request: web.Request, act: str) -> web.StreamResponse:
    actor = current_staff(request)
    form = await request.post()
    _ = page_gettext(request)
    now = request.app[CLOCK]()
    ip = client_ip(request)
    back = f"/staff/{request.match_info['staff_id']}"
    try:
        async with request.app[SESSIONMAKER]() as session, session.begin():
            person = await _person(request, session)
            if act == "active":
                active = form.get("active") == "1"
                await set_active(session, actor, person, active, now=now, ip=ip)
                text = _("Учётная запись включена.") if active else _(
                    "Учётная запись отключена: вход закрыт, открытые сеансы завершены.")
            elif act == "invite":
                await send_invite(session, person, actor, now=now, base_url=request.app[SETTINGS].admin_base_url)
                text = _("Бот пришлёт сотруднику одноразовую ссылку для входа (действует 48 часов).")
            else:
                await unlock(session, actor, person, now=now, ip=ip)
                text = _("Блокировка входа снята.")
    except StaffError as exc:
        flash(request, exc.localized(_), "error")
        raise web.HTTPFound(back) from None
    flash(request, text)
    raise web.HTTPFound(back)


@requires(*STAFF_MANAGERS)
async def staff_active(request: web.Request) -> web.StreamResponse:
    return await _action(request, "active")


@requires(*STAFF_MANAGERS)
async def staff_invite(request: web.Request) -> web.StreamResponse:
    return await _action(request, "invite")


@requires(*STAFF_MANAGERS)
async def staff_unlock(request: web.Request) -> web.StreamResponse:
    return await _action(request, "unlock")


def setup(app: web.Application) -> None:
    app.router.add_get("/staff", staff_list, name="staff")
    app.router.add_post("/staff", staff_create)
    app.router.add_get("/staff/{staff_id:\\d+}", staff_page, name="staff_member")
    app.router.add_post("/staff/{staff_id:\\d+}", staff_update)
    app.router.add_post("/staff/{staff_id:\\d+}/active", staff_active)
    app.router.add_post("/staff/{staff_id:\\d+}/invite", staff_invite)
    app.router.add_post("/staff/{staff_id:\\d+}/unlock", staff_unlock)

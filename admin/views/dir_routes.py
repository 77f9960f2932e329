"""/directories/routes: the routing rules ranked as the router ranks them, their history, and
«проверить маршрут», through core.routing (the same functions as `mcu route`)."""
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
    local_time,
    may_edit,
    number,
    or_404,
    path_id,
    read_session,
    render,
    submit,
    text,
)
from core.directories import (
    DirectoryNames,
    list_settlements,
    list_topics,
    rule_change_text,
)
from core.routing import (
    N_,
    RoutingError,
    add_rule,
    check_route,
    deactivate_rule,
    list_organisations,
    list_rules,
    rank,
    rule_history,
    update_rule,
)
from db.models import RoutingRule

LIST = "/directories/routes"


def _keys(form: Form) -> dict[str, Any]:
    return {"topic_id": number(form, "topic_id", N_("направление")),
            "theme_id": number(form, "theme_id", N_("тема")),
            "settlement_id": number(form, "settlement_id", N_("населённый пункт"))}


def _organisation(form: Form) -> int:
    org_id = number(form, "organisation_id", N_("организация"))
    if org_id is None:
        raise RoutingError(N_("Выберите организацию."))
    return org_id


async def _choices(session: AsyncSession) -> dict[str, Any]:
    """What the selects offer: active organisations, topics with their active themes, settlements."""
    topics = await list_topics(session)
    return {"organisations": await list_organisations(session), "topics": topics,
            "themes": {t.id: [th for th in t.themes if th.is_active] for t in topics},
            "settlements": await list_settlements(session)}


async def _check(request: web.Request, session: AsyncSession) -> dict[str, Any] | None:
    """The «проверить маршрут» form is a GET: it changes nothing."""
    if "check" not in request.query:
        return None
    _ = page_gettext(request)
    query = request.query
    try:
        keys = {name: number(query, name, N_("ключ")) for name in ("topic_id", "theme_id", "settlement_id")}
        found = await check_route(session, **keys)
    except RoutingError as exc:
        return {"error": exc.localized(_), "query": query}
    names = DirectoryNames(session, _)
    best = found.suggestion.rule_id
    return {"query": query, "topic_id": found.topic_id, "unambiguous": found.suggestion.unambiguous,
            "organisation": await names.org(found.suggestion.organisation_ids[0])
            if found.suggestion.organisation_ids else None,
            "best": best, "rules": [(rule, await names.rule(rule)) for rule in found.rules]}


async def _list_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    show_all = request.query.get("all") == "1"
    async with read_session(request) as session:
        rules = await list_rules(session, active_only=not show_all)
        rules.sort(key=lambda r: (not r.is_active, *rank(r)))  # the router's order: best first
        names = DirectoryNames(session, page_gettext(request))
        rows = [{"rule": r, "topic": await names.topic(r.topic_id), "theme": await names.theme(r.theme_id),
                 "settlement": await names.settlement(r.settlement_id), "org": await names.org(r.organisation_id)}
                for r in rules]
        check = await _check(request, session)
        choices = await _choices(session)
    return {"rows": rows, "show_all": show_all, "check": check, **choices, "typed": typed,
            "preset_org": request.query.get("organisation_id", ""), "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def list_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_routes.html", await _list_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def create(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        rule = await add_rule(session, organisation_id=_organisation(form), **_keys(form),
                              priority=text(form, "priority") or 0, staff_id=staff_id, now=now)
        return _("Правило № {id} добавлено: {rule}").format(
            id=rule.id, rule=await DirectoryNames(session, _).rule(rule))

    return await submit(request, form_name="add", work=work, done=LIST, template="dir_routes.html",
                        page=_list_page)


async def _rule_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    rule_id = path_id(request)
    _ = page_gettext(request)
    async with read_session(request) as session, or_404():
        history = await rule_history(session, rule_id)
        rule = await session.get(RoutingRule, rule_id)
        names = DirectoryNames(session, _)
        lines = [(entry, await names.staff(entry.staff_id), await rule_change_text(names, entry))
                 for entry in history]
        title = await names.rule(rule) if rule is not None else ""
        choices = await _choices(session)
    return {"rule": rule, "title": title, "history": lines, **choices, "typed": typed,
            "local_time": local_time(request), "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def rule_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_route.html", await _rule_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def edit(request: web.Request) -> web.StreamResponse:
    rule_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        rule = await update_rule(session, rule_id, staff_id=staff_id, now=now, organisation_id=_organisation(form),
                                 **_keys(form), priority=text(form, "priority") or 0)
        return _("Правило № {id} сохранено: {rule}").format(id=rule.id, rule=await DirectoryNames(session, _).rule(rule))

    return await submit(request, form_name="rule", work=work, done=f"{LIST}/{rule_id}", template="dir_route.html",
                        page=_rule_page)


@requires(*EDIT_ROLES)
async def switch(request: web.Request) -> web.StreamResponse:
    rule_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        if checked(form, "active"):
            await update_rule(session, rule_id, staff_id=staff_id, now=now, is_active=True)
            return _("Правило № {id} снова действует.").format(id=rule_id)
        await deactivate_rule(session, rule_id, staff_id=staff_id, now=now)
        return _("Правило № {id} отключено.").format(id=rule_id)

    form = await request.post()
    back = f"{LIST}/{rule_id}" if text(form, "back") == "rule" else LIST
    return await submit(request, form_name=f"switch-{rule_id}", work=work, done=back, template="dir_route.html",
                        page=_rule_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, list_page)
    app.router.add_post(LIST, create)
    app.router.add_get(LIST + "/{id}", rule_page)
    app.router.add_post(LIST + "/{id}", edit)
    app.router.add_post(LIST + "/{id}/active", switch)

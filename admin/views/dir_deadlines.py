"""/directories/deadlines: the deadline policies (channel × kind × topic/theme × importance → durations),
checked by core.calendar.parse_duration through core.deadlines."""
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
    may_edit,
    number,
    or_404,
    path_id,
    read_session,
    render,
    submit,
    text,
)
from core.calendar import duration_words, parse_duration
from core.cards import kind_label
from core.deadlines import (
    DURATION_FIELDS,
    DURATION_LABELS,
    POLICY_KEYS,
    add_policy,
    delete_policy,
    get_policy,
    list_policies,
    update_policy,
)
from core.directories import DirectoryNames, list_topics
from core.registration import channel_label
from core.routing import N_
from db.models import Channel, DeadlinePolicy, ItemKind

LIST = "/directories/deadlines"


def _fields(form: Form) -> dict[str, Any]:
    values: dict[str, Any] = {name: text(form, name) for name in (*DURATION_FIELDS, "channel", "kind", "note")}
    values["topic_id"] = number(form, "topic_id", N_("направление"))
    values["theme_id"] = number(form, "theme_id", N_("тема"))
    values["priority"] = text(form, "priority")
    return values


def reading(value: str | None, _: Any) -> str:
    """"10wd" as staff say it: «10 рабочих дней»."""
    if not value:
        return ""
    try:
        return duration_words(parse_duration(value), _)
    except ValueError:
        return _("не читается")


async def _row(policy: DeadlinePolicy, names: DirectoryNames, _: Any) -> dict[str, Any]:
    return {"policy": policy,
            "channel": channel_label(policy.channel, _) if policy.channel else "",
            "kind": kind_label(policy.kind, _) if policy.kind else "",
            "topic": await names.topic(policy.topic_id) if policy.topic_id else "",
            "theme": await names.theme(policy.theme_id) if policy.theme_id else "",
            "general": all(getattr(policy, key) is None for key in POLICY_KEYS)}


async def _choices(request: web.Request, session: AsyncSession) -> dict[str, Any]:
    _ = page_gettext(request)
    topics = await list_topics(session)
    return {"channels": [(c.value, channel_label(c.value, _)) for c in Channel],
            "kinds": [(k.value, kind_label(k.value, _)) for k in ItemKind],
            "topics": topics, "themes": {t.id: [th for th in t.themes if th.is_active] for t in topics},
            "durations": [(name, DURATION_LABELS[name]) for name in DURATION_FIELDS],
            "reading": lambda value: reading(value, _)}


async def _list_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    _ = page_gettext(request)
    async with read_session(request) as session:
        names = DirectoryNames(session, _)
        rows = [await _row(p, names, _) for p in await list_policies(session)]
        choices = await _choices(request, session)
    return {"rows": rows, **choices, "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def list_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_deadlines.html", await _list_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def create(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        policy = await add_policy(session, staff_id=staff_id, now=now, **_fields(form))
        return _("Политика сроков № {id} добавлена. Новые сроки действуют для обращений, зарегистрированных "
                 "после изменения (в боте — в течение минуты).").format(id=policy.id)

    return await submit(request, form_name="add", work=work, done=LIST, template="dir_deadlines.html",
                        page=_list_page)


async def _policy_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    policy_id = path_id(request)
    _ = page_gettext(request)
    async with read_session(request) as session, or_404():
        policy = await get_policy(session, policy_id)
        row = await _row(policy, DirectoryNames(session, _), _)
        choices = await _choices(request, session)
    return {"row": row, "policy": policy, **choices, "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def policy_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_deadline.html", await _policy_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def edit(request: web.Request) -> web.StreamResponse:
    policy_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        await update_policy(session, policy_id, staff_id=staff_id, now=now, **_fields(form))
        return _("Политика сроков № {id} сохранена.").format(id=policy_id)

    return await submit(request, form_name="policy", work=work, done=f"{LIST}/{policy_id}",
                        template="dir_deadline.html", page=_policy_page)


@requires(*EDIT_ROLES)
async def delete(request: web.Request) -> web.StreamResponse:
    policy_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        await delete_policy(session, policy_id, staff_id=staff_id, now=now)
        return _("Политика сроков № {id} удалена.").format(id=policy_id)

    return await submit(request, form_name="delete", work=work, done=LIST, template="dir_deadline.html",
                        page=_policy_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, list_page)
    app.router.add_post(LIST, create)
    app.router.add_get(LIST + "/{id}", policy_page)
    app.router.add_post(LIST + "/{id}", edit)
    app.router.add_post(LIST + "/{id}/delete", delete)

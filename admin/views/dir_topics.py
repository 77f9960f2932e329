"""/directories/topics: the decree's topics (names, «ускоренные») and their themes (add, rename, move to
another topic, switch off and on), through core.directories."""
from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import Any

from aiohttp import web
from sqlalchemy import select
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
from core.directories import (
    add_theme,
    get_theme,
    list_topics,
    update_theme,
    update_topic,
)
from core.routing import N_, RoutingError
from db.models import Theme

LIST = "/directories/topics"


async def _topics_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    async with read_session(request) as session:
        topics = await list_topics(session)
        groups = sorted({t.group_name for t in await session.scalars(select(Theme))})
    grouped = [(topic, [(group, list(themes)) for group, themes in
                        groupby(sorted(topic.themes, key=lambda t: (t.group_name, t.name)), key=lambda t: t.group_name)])
               for topic in topics]
    return {"topics": topics, "grouped": grouped, "groups": groups, "typed": typed, "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def topics_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_topics.html", await _topics_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def edit_topic(request: web.Request) -> web.StreamResponse:
    topic_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        topic = await update_topic(session, topic_id, staff_id=staff_id, now=now, name_ru=text(form, "name_ru"),
                                   name_en=text(form, "name_en"), accelerated=checked(form, "accelerated"))
        return _("Направление «{name}» сохранено.").format(name=topic.name_ru)

    return await submit(request, form_name=f"topic-{topic_id}", work=work, done=f"{LIST}#topic-{topic_id}",
                        template="dir_topics.html", page=_topics_page)


def _topic_id(form: Form) -> int:
    topic_id = number(form, "topic_id", N_("направление"))
    if topic_id is None:
        raise RoutingError(N_("Выберите направление."))
    return topic_id


@requires(*EDIT_ROLES)
async def create_theme(request: web.Request) -> web.StreamResponse:
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        theme = await add_theme(session, topic_id=_topic_id(form), group_name=text(form, "group_name"),
                                name=text(form, "name"), staff_id=staff_id, now=now)
        return _("Тема «{name}» добавлена (№ {id}).").format(name=theme.name, id=theme.id)

    return await submit(request, form_name="add-theme", work=work, done=LIST, template="dir_topics.html",
                        page=_topics_page)


async def _theme_page(request: web.Request, typed: Typed) -> dict[str, Any]:
    theme_id = path_id(request)
    async with read_session(request) as session, or_404():
        theme = await get_theme(session, theme_id)
        topics = await list_topics(session)
        groups = sorted({t.group_name for t in await session.scalars(select(Theme))})
    current = next(t for t in topics if t.id == theme.topic_id)
    return {"theme": theme, "current_topic": current, "topics": topics, "groups": groups, "typed": typed,
            "may_edit": may_edit(request)}


@requires(*VIEW_ROLES)
async def theme_page(request: web.Request) -> web.StreamResponse:
    return await render(request, "dir_theme.html", await _theme_page(request, NOTHING_TYPED))


@requires(*EDIT_ROLES)
async def edit_theme(request: web.Request) -> web.StreamResponse:
    theme_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        theme = await update_theme(session, theme_id, staff_id=staff_id, now=now, name=text(form, "name"),
                                   group_name=text(form, "group_name"), topic_id=_topic_id(form))
        return _("Тема «{name}» сохранена.").format(name=theme.name)

    return await submit(request, form_name="theme", work=work, done=f"/directories/themes/{theme_id}",
                        template="dir_theme.html", page=_theme_page)


@requires(*EDIT_ROLES)
async def switch_theme(request: web.Request) -> web.StreamResponse:
    theme_id = path_id(request)
    _ = page_gettext(request)

    async def work(session: AsyncSession, staff_id: int, now: datetime, form: Form) -> str:
        theme = await update_theme(session, theme_id, staff_id=staff_id, now=now, is_active=checked(form, "active"))
        message = _("Тема «{name}» включена.") if theme.is_active else _("Тема «{name}» отключена.")
        return message.format(name=theme.name)

    form = await request.post()
    topic = text(form, "topic")  # where the list was: the anchor of the theme's topic
    back = f"/directories/themes/{theme_id}" if text(form, "back") == "theme" else \
        f"{LIST}#topic-{topic}" if topic.isdigit() else LIST
    return await submit(request, form_name=f"switch-{theme_id}", work=work, done=back, template="dir_topics.html",
                        page=_topics_page)


def setup(app: web.Application) -> None:
    app.router.add_get(LIST, topics_page)
    app.router.add_post("/directories/topics/{id}", edit_topic)
    app.router.add_post("/directories/themes", create_theme)
    app.router.add_get("/directories/themes/{id}", theme_page)
    app.router.add_post("/directories/themes/{id}", edit_theme)
    app.router.add_post("/directories/themes/{id}/active", switch_theme)

"""/audit: the log of staff actions, newest first, a page at a time, filtered by staff member and action."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import select

from admin.auth import requires
from admin.keys import SESSIONMAKER, SETTINGS
from core.audit import Cursor, audit_actions, audit_page
from core.staff import STAFF_MANAGERS
from core.staff_auth import N_
from db.models import Staff

# What staff read for an action code; unknown codes are shown as they are.
ACTION_LABELS = {
    "login.ok": N_("вход"),
    "login.failed": N_("неудачный вход"),
    "login.locked": N_("вход заблокирован"),
    "login.throttled": N_("вход отклонён: много попыток с адреса"),
    "login.unlock": N_("блокировка входа снята"),
    "logout": N_("выход"),
    "password.set": N_("пароль задан"),
    "invite.create": N_("выдана ссылка для входа"),
    "invite.use": N_("ссылка для входа использована"),
    "staff.create": N_("сотрудник добавлен"),
    "staff.update": N_("сотрудник изменён"),
    "staff.activate": N_("учётная запись включена"),
    "staff.deactivate": N_("учётная запись отключена"),
    "official.create": N_("исполнитель добавлен"),
    "official.update": N_("исполнитель изменён"),
    "organisation.create": N_("организация добавлена"),
    "organisation.update": N_("организация изменена"),
    "setting.change": N_("настройка изменена"),
}
ENTITY_LABELS = {
    "staff": N_("сотрудник"),
    "organisation": N_("организация"),
    "routing_rule": N_("правило распределения"),
    "setting": N_("настройка"),
}
# Families offered in the filter besides the exact actions present in the log.
FAMILIES = {"login.": N_("все события входа"), "staff.": N_("все изменения сотрудников")}
DETAILS_MAX = 400


def _details(value: dict[str, Any] | None) -> str:
    if not value:
        return ""
    text = json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= DETAILS_MAX else text[: DETAILS_MAX - 1] + "…"


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@requires(*STAFF_MANAGERS)
async def audit_log(request: web.Request) -> web.StreamResponse:
    staff_id = _int(request.query.get("staff"))
    action = request.query.get("action", "").strip()[:64] or None
    async with request.app[SESSIONMAKER]() as session:
        page = await audit_page(session, staff_id=staff_id, action=action,
                                before=Cursor.decode(request.query.get("before")),
                                after=Cursor.decode(request.query.get("after")))
        people = list(await session.scalars(select(Staff).order_by(Staff.name, Staff.id)))
        actions = await audit_actions(session)
    names = {p.id: p.name for p in people}
    filters = {k: v for k, v in (("staff", staff_id), ("action", action)) if v is not None}

    def link(**cursor: str) -> str:
        return "/audit?" + urlencode({**filters, **cursor})

    return aiohttp_jinja2.render_template("audit.html", request, {
        "entries": [(e, names.get(e.staff_id) if e.staff_id else None,
                     names.get(e.entity_id) if e.entity == "staff" and e.entity_id else None,
                     _details(e.details)) for e in page.entries],
        "people": people, "actions": actions, "families": FAMILIES, "labels": ACTION_LABELS,
        "entity_labels": ENTITY_LABELS,
        "staff_id": staff_id, "action": action or "", "tz": request.app[SETTINGS].tz,
        "older": link(before=page.older.encode()) if page.older else None,
        "newer": link(after=page.newer.encode()) if page.newer else None,
        "first": link() if page.newer else None,
    })


def setup(app: web.Application) -> None:
    app.router.add_get("/audit", audit_log, name="audit")

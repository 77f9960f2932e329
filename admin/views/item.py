"""/items/{number}: one item — its card, deadlines, the citizen's contacts (for the roles that need
them), the whole history, the correspondence, the files (images inline), a map link — and every
lifecycle action this staff member may take on it now.

Rights are checked on every request: seeing the item (`core.item_list.can_see`, the same rule as the
list), and for a POST the action's right (`core.lifecycle.may`) on the item as it is in the
database at that moment. Every change goes through the lifecycle function the bot uses; a refusal
(`TransitionError`) becomes a flash with its sentence in the reader's language.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import ClientError, web
from multidict import MultiDictProxy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from admin.auth import current_staff, flash, forbidden, requires
from admin.i18n import page_gettext, page_language
from admin.keys import CLOCK, HTTP, SANDBOX_URL, SESSIONMAKER, SETTINGS
from admin.views.dir_common import render
from core import lifecycle as lc
from core.actors import Actor
from core.cards import TRIAGE_STATUSES, kind_label, local, status_label
from core.item_list import can_see, channel_label, resolution_label
from core.lifecycle import N_, LifecycleContext, TransitionError
from db.models import (
    Attachment,
    Citizen,
    Item,
    ItemMessage,
    Organisation,
    Role,
    Settlement,
    Staff,
    Status,
    Theme,
    Topic,
)

log = logging.getLogger(__name__)
Form = MultiDictProxy[Any]
Gettext = Callable[[str], str]
S = Status
REF = r"{ref:\d{4}-\d{6}|\d+}"
NUMBER = re.compile(r"^\d{4}-\d{6}$")
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
CHUNK = 64 * 1024


# --- finding the item -------------------------------------------------------------------------------------


async def find(session: AsyncSession, ref: str, *, lock: bool = False) -> Item | None:
    """By number (the page's address), or by id (the links in e-mails to officials)."""
    if NUMBER.match(ref):
        item_id = await session.scalar(select(Item.id).where(Item.number == ref))
    else:
        item_id = int(ref) if len(ref) < 16 else None
    return None if item_id is None else await lc.load_item(session, item_id, lock=lock)


def _visible_or_403(request: web.Request, item: Item | None) -> Item:
    if item is None:
        raise web.HTTPNotFound()
    staff = current_staff(request)
    if not can_see(staff, item):
        # Ids only in the log: enough to look into it, nothing of the citizen.
        log.info("refused item id=%s to staff id=%s", item.id, staff.id)
        raise forbidden(page_gettext(request)(N_("Это обращение не в вашем ведении.")))
    return item


def may_see_contacts(staff: Staff, item: Item) -> bool:
    """152-ФЗ: the citizen's phone, e-mail and addresses only for whom the work needs them — the
    centre, the channel's officer, and the organisation that answers (it may have to write by post)."""
    roles = staff.role_set
    if roles & lc.CENTRE_ROLES:
        return True
    officer = lc.CHANNEL_OFFICER.get(item.channel)
    if officer is not None and officer in roles:
        return True
    return Role.recipient in roles and staff.organisation_id is not None \
        and staff.organisation_id == item.organisation_id


# --- the actions ------------------------------------------------------------------------------------------


def _text(form: Form, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _org_id(form: Form) -> int:
    raw = _text(form, "organisation")
    if not raw.isdigit():
        raise TransitionError(N_("Выберите организацию из списка."))
    return int(raw)


def _due(form: Form, tz: Any) -> datetime:
    raw = _text(form, "due")
    for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M", "%Y-%m-%d", "%d.%m.%Y"):
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if fmt in ("%Y-%m-%d", "%d.%m.%Y"):
            parsed = parsed.replace(hour=18)  # a date alone: the end of that working day
        return parsed.replace(tzinfo=tz)
    raise TransitionError(N_("Новый срок «{value}» не распознан: укажите дату и время."), value=raw[:40])


async def _org_name(ctx: LifecycleContext, org_id: int | None) -> str:
    name = None if org_id is None else await ctx.session.scalar(
        select(Organisation.name).where(Organisation.id == org_id))
    return name or "—"


Run = Callable[[LifecycleContext, Item, Staff, Form, Gettext], Awaitable[str]]


async def _assign(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    org_id = _org_id(form)
    await lc.assign(ctx, item, org_id, Actor.staff(staff.id), comment=_text(form, "comment") or None)
    return _("№ {number} направлено: {org}.").format(number=item.number, org=await _org_name(ctx, org_id))


async def _accept(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.accept(ctx, item, staff)
    return _("№ {number} принято в работу; заявитель получит уведомление.").format(number=item.number)


async def _ask(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.ask_citizen(ctx, item, staff, _text(form, "text"))
    return _("Вопрос по № {number} отправлен заявителю.").format(number=item.number)


async def _interim(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.interim_answer(ctx, item, staff, _text(form, "text"))
    return _("Промежуточный ответ по № {number} отправлен заявителю.").format(number=item.number)


async def _answer(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.answer(ctx, item, staff, _text(form, "text"))
    if item.status == S.under_review:
        return _("Ответ по № {number} отправлен на проверку в МЦУ. После утверждения он уйдёт заявителю.").format(
            number=item.number)
    return _("Ответ по № {number} отправлен заявителю.").format(number=item.number)


async def _not_ours(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.return_not_ours(ctx, item, staff, _text(form, "text"))
    return _("№ {number} возвращено в МЦУ на распределение.").format(number=item.number)


async def _request_extension(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.request_extension(ctx, item, staff, _text(form, "text"))
    return _("Просьба продлить срок по № {number} отправлена в МЦУ; о решении сообщим.").format(number=item.number)


async def _extension_yes(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.decide_extension(ctx, item, staff, True)
    return _("Срок по № {number} продлён до {due}; заявитель и исполнитель получат уведомление.").format(
        number=item.number, due=local(item.due_answer_at, ctx.tz))


async def _extension_no(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.decide_extension(ctx, item, staff, False)
    return _("В продлении срока по № {number} отказано; исполнитель получит уведомление.").format(number=item.number)


async def _prolong(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.extend_by_centre(ctx, item, staff, _text(form, "text"))
    return _("Срок по № {number} продлён до {due}; заявитель и исполнитель получат уведомление.").format(
        number=item.number, due=local(item.due_answer_at, ctx.tz))


async def _deadline(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.set_deadline(ctx, item, staff, _due(form, ctx.tz), _text(form, "text"))
    return _("Новый срок ответа по № {number}: {due}.").format(number=item.number, due=local(item.due_answer_at, ctx.tz))


async def _behalf(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.answer_on_behalf(ctx, item, staff, _text(form, "text"))
    return _("Ответ по № {number} от имени исполнителя отправлен заявителю.").format(number=item.number)


async def _approve(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.approve(ctx, item, staff)
    return _("Ответ по № {number} утверждён и отправлен заявителю.").format(number=item.number)


async def _rework(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.return_for_rework(ctx, item, staff, _text(form, "text"))
    return _("Ответ по № {number} возвращён исполнителю на доработку.").format(number=item.number)


async def _close(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.close_by_staff(ctx, item, staff, _text(form, "resolution"), _text(form, "text") or None)
    return _("№ {number} закрыто.").format(number=item.number)


async def _reopen(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    await lc.reopen(ctx, item, Actor.staff(staff.id), _text(form, "text"))
    return _("№ {number} возобновлено; исполнитель получит уведомление.").format(number=item.number)


async def _merge(ctx: LifecycleContext, item: Item, staff: Staff, form: Form, _: Gettext) -> str:
    wanted = _text(form, "main")
    found = await lc.find_by_number(ctx.session, wanted, ctx.now, ctx.tz) if wanted else None
    main = None if found is None else await lc.load_item(ctx.session, found.id)
    if main is None:
        raise TransitionError(N_("Обращение № {number} не найдено."), number=wanted[:20] or "—")
    await lc.merge_duplicate(ctx, item, main, staff, _text(form, "text") or None)
    return _("№ {number} закрыто как дубликат № {main}; заявитель получит уведомление.").format(
        number=item.number, main=main.number)


PUT_TO_WORK = frozenset({S.assigned, S.returned, S.reopened})
NOT_OURS = frozenset({S.assigned, S.in_work, S.interim_answer, S.returned})


@dataclass(frozen=True, slots=True)
class ActionSpec:
    right: str  # the name in core.lifecycle.allowed_actions
    when: Callable[[Item], bool]  # the item's state lets it happen now
    run: Run


ACTIONS: dict[str, ActionSpec] = {
    "assign": ActionSpec("route", lambda i: i.status in TRIAGE_STATUSES, _assign),
    "redirect": ActionSpec("route", lambda i: i.organisation_id is not None and i.status in NOT_OURS, _assign),
    "accept": ActionSpec("accept", lambda i: i.status in PUT_TO_WORK, _accept),
    "ask": ActionSpec("ask", lambda i: i.status in lc.WORKING, _ask),
    "interim": ActionSpec("interim", lambda i: i.status in lc.WORKING, _interim),
    "answer": ActionSpec("answer", lambda i: i.status in lc.WORKING, _answer),
    "notours": ActionSpec("notours", lambda i: i.status in NOT_OURS, _not_ours),
    "extend": ActionSpec("extend", lambda i: i.status in lc.WORKING and not i.extended
                         and i.extension_requested_at is None, _request_extension),
    "extyes": ActionSpec("extyes", lambda i: i.extension_requested_at is not None, _extension_yes),
    "extno": ActionSpec("extno", lambda i: i.extension_requested_at is not None, _extension_no),
    "approve": ActionSpec("approve", lambda i: i.status == S.under_review, _approve),
    "rework": ActionSpec("rework", lambda i: i.status == S.under_review, _rework),
    "behalf": ActionSpec("behalf", lambda i: i.status in lc.WORKING, _behalf),
    "deadline": ActionSpec("deadline", lambda i: i.status in lc.UNANSWERED, _deadline),
    "prolong": ActionSpec("prolong", lambda i: i.status in lc.UNANSWERED and not i.extended
                          and i.due_answer_at is not None, _prolong),
    "close": ActionSpec("close", lambda i: i.status in (S.delivered, S.reopened), _close),
    "reopen": ActionSpec("reopen", lambda i: i.status in (S.delivered, S.closed)
                         and i.resolution != lc.DUPLICATE, _reopen),
    "merge": ActionSpec("merge", lambda i: i.status not in lc.FINAL and i.status != S.received, _merge),
}


def available(staff: Staff, item: Item) -> list[str]:
    """The actions to show: allowed to this person (lifecycle.allowed_actions) and possible now."""
    rights = lc.allowed_actions(staff, item)
    return [name for name, spec in ACTIONS.items() if spec.right in rights and spec.when(item)]


@requires()
async def act(request: web.Request) -> web.StreamResponse:
    """One action from the page's forms: rights checked again on the item as it is now."""
    staff = current_staff(request)
    settings = request.app[SETTINGS]
    _ = page_gettext(request)
    form = await request.post()
    name = _text(form, "action")
    spec = ACTIONS.get(name)
    if spec is None:
        raise web.HTTPBadRequest(text="unknown action")
    ref = request.match_info["ref"]
    target = f"/items/{ref}"
    try:
        async with request.app[SESSIONMAKER]() as session, session.begin():
            item = _visible_or_403(request, await find(session, ref, lock=True))
            target = f"/items/{item.number}"
            if not lc.may(staff, item, spec.right):
                log.info("refused action %s on item id=%s to staff id=%s", name, item.id, staff.id)
                raise forbidden(_("Это действие вам недоступно."))
            ctx = await lc.lifecycle_context(session, settings, request.app[CLOCK]())
            done = await spec.run(ctx, item, staff, form, _)
    except TransitionError as refused:
        flash(request, refused.localized(_), "error")
    else:
        flash(request, done)
    raise web.HTTPSeeOther(target)


# --- the page ---------------------------------------------------------------------------------------------


def map_link(item: Item, settlement: str | None) -> str | None:
    if item.latitude is not None and item.longitude is not None:
        lat, lon = f"{item.latitude:.6f}", f"{item.longitude:.6f}"
        return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"
    place = ", ".join(p for p in (settlement, item.address) if p)
    if not place:
        return None
    return "https://www.openstreetmap.org/search?" + urlencode({"query": place})


def is_image(f: Attachment) -> bool:
    return f.kind == "photo" or (f.mime_type or "") in IMAGE_TYPES


EVENT_LABELS = {
    "created": N_("создано"),
    "addition": N_("дополнение заявителя"),
    "status": N_("статус"),
    "route": N_("исполнитель"),
    "assignee": N_("ответственный сотрудник"),
    "question": N_("вопрос заявителю"),
    "citizen_reply": N_("ответ заявителя"),
    "deadline": N_("срок"),
    "deadline_paused": N_("срок на паузе"),
    "deadline_resumed": N_("срок снова идёт"),
    "review": N_("проверка ответа"),
    "extension_requested": N_("просьба о продлении"),
    "extension_refused": N_("в продлении отказано"),
    "resolution": N_("итог"),
    "repeat": N_("повторное"),
    "reclassified": N_("классификация"),
    "survey": N_("опрос"),
    "no_contact": N_("у организации нет контактов"),
    "deliver_by_post": N_("ответ отправить почтой"),
    "answer_on_behalf": N_("ответ МЦУ за исполнителя"),
    "merged": N_("объединено как дубликат"),
    "merged_duplicate": N_("присоединён дубликат"),
    "citizen_unreachable": N_("заявитель недоступен в Telegram"),
}
FIELD_LABELS = {
    "due_registration_at": N_("срок регистрации"),
    "due_first_reaction_at": N_("срок первой реакции"),
    "due_answer_at": N_("срок ответа"),
    "topic": N_("тема"),
    "theme": N_("подтема"),
    "settlement": N_("населённый пункт"),
}
MESSAGE_LABELS = {
    "addition": N_("Дополнение заявителя"),
    "question": N_("Вопрос заявителю"),
    "reply": N_("Ответ заявителя"),
    "interim": N_("Промежуточный ответ"),
    "answer": N_("Ответ"),
    "review_comment": N_("Замечание МЦУ"),
    "reopen": N_("Причина возобновления"),
}


class Names:
    """The names behind the ids an item's history and letters refer to, loaded once per page."""

    def __init__(self, staff: dict[int, str], orgs: dict[int, str], topics: dict[int, str],
                 settlements: dict[int, str]) -> None:
        self.staff, self.orgs, self.topics, self.settlements = staff, orgs, topics, settlements

    @classmethod
    async def load(cls, session: AsyncSession, staff_ids: set[int], org_ids: set[int], language: str) -> Names:
        staff = {i: n for i, n in (await session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(staff_ids))))
                 .all()} if staff_ids else {}
        orgs = {i: n for i, n in (await session.execute(select(Organisation.id, Organisation.name)
                                                        .where(Organisation.id.in_(org_ids)))).all()} if org_ids else {}
        topics = {t.id: (t.name_en if language == "en" else t.name_ru) for t in await session.scalars(select(Topic))}
        settlements = {i: n for i, n in (await session.execute(select(Settlement.id, Settlement.name))).all()}
        return cls(staff, orgs, topics, settlements)


def _ids(values: list[str | None]) -> set[int]:
    return {int(v) for v in values if v and v.isdigit()}


def _value(field: str | None, value: str | None, names: Names, tz: Any, _: Gettext) -> str:
    if value is None or value == "":
        return "—"
    if field == "status":
        return status_label(value, _) if value in Status.__members__ else value
    if field == "resolution":
        return resolution_label(value, _)
    if field in ("organisation",) and value.isdigit():
        return names.orgs.get(int(value), value)
    if field == "assignee" and value.isdigit():
        return names.staff.get(int(value), value)
    if field == "topic" and value.isdigit():
        return names.topics.get(int(value), value)
    if field == "settlement" and value.isdigit():
        return names.settlements.get(int(value), value)
    if field and (field.startswith("due_") or field == "paused_since"):
        try:
            return local(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    return value


def timeline(events: list[Any], names: Names, tz: Any, _: Gettext) -> list[dict[str, Any]]:
    out = []
    for e in events:
        if e.actor_kind == "staff":
            who = names.staff.get(e.actor_staff_id or 0, _("сотрудник"))
        elif e.actor_kind == "citizen":
            who = _("заявитель")
        else:
            who = _("система")
        what = _(EVENT_LABELS[e.action]) if e.action in EVENT_LABELS else e.action
        if e.field in FIELD_LABELS:
            what = f"{what}: {_(FIELD_LABELS[e.field])}"
        change = None
        if e.old_value is not None or e.new_value is not None:
            old, new = _value(e.field, e.old_value, names, tz, _), _value(e.field, e.new_value, names, tz, _)
            change = new if e.old_value is None else f"{old} → {new}"
        out.append({"at": local(e.at, tz), "who": who, "what": what, "change": change, "comment": e.comment,
                    "action": e.action})
    return out


@requires()
async def page(request: web.Request) -> web.StreamResponse:
    staff = current_staff(request)
    settings = request.app[SETTINGS]
    tz = settings.tz
    _ = page_gettext(request)
    language = page_language(request)
    now = request.app[CLOCK]()
    ref = request.match_info["ref"]
    async with request.app[SESSIONMAKER]() as session, session.begin():
        item = _visible_or_403(request, await find(session, ref))
        if not NUMBER.match(ref):
            raise web.HTTPFound(f"/items/{item.number}")
        events = await lc.history(session, item.id)
        messages = list((await session.scalars(
            select(ItemMessage).where(ItemMessage.item_id == item.id).order_by(ItemMessage.id))).all())
        files = list((await session.scalars(
            select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id))).all())
        staff_ids = {e.actor_staff_id for e in events if e.actor_staff_id} | \
            {m.author_staff_id for m in messages if m.author_staff_id} | \
            _ids([e.old_value for e in events if e.field == "assignee"] +
                 [e.new_value for e in events if e.field == "assignee"])
        if item.assignee_id:
            staff_ids.add(item.assignee_id)
        org_ids = _ids([e.old_value for e in events if e.field == "organisation"] +
                       [e.new_value for e in events if e.field == "organisation"])
        org_ids |= {i for i in (item.organisation_id, item.suggested_organisation_id) if i}
        names = await Names.load(session, staff_ids, org_ids, language)
        theme = None if item.theme_id is None else await session.scalar(
            select(Theme.name).where(Theme.id == item.theme_id))
        repeat_of = None if item.repeat_of_id is None else await session.scalar(
            select(Item.number).where(Item.id == item.repeat_of_id))
        repeats = list((await session.scalars(
            select(Item.number).where(Item.repeat_of_id == item.id).order_by(Item.id).limit(50))).all())
        contacts = None
        if may_see_contacts(staff, item) and item.citizen_id is not None:
            citizen = await session.get(Citizen, item.citizen_id)
            if citizen is not None and citizen.erased_at is None:
                contacts = {"name": citizen.full_name or " ".join(p for p in (citizen.first_name, citizen.last_name)
                                                                  if p) or None,
                            "phone": citizen.phone, "email": citizen.email, "postal": citizen.postal_address,
                            "username": citizen.telegram_username, "telegram": citizen.telegram_id is not None,
                            "unreachable": citizen.unreachable_since is not None}
        actions = available(staff, item)
        organisations = []
        if {"assign", "redirect"} & set(actions):
            organisations = [(o.id, o.name) for o in await session.scalars(
                select(Organisation).where(Organisation.is_active.is_(True)).order_by(Organisation.name))]
    settlement = names.settlements.get(item.settlement_id or 0)
    by_message: dict[int | None, list[Attachment]] = {}
    for f in files:
        by_message.setdefault(f.message_id, []).append(f)
    letters = [{"kind": _(MESSAGE_LABELS.get(m.kind, m.kind)), "code": m.kind, "text": m.text,
                "at": local(m.created_at, tz),
                "who": names.staff.get(m.author_staff_id, "") if m.author_staff_id
                else (_("заявитель") if m.author_citizen_id else ""),
                "files": by_message.get(m.id, [])} for m in messages]
    context = {
        "item": item,
        "number": item.number,
        "status": status_label(item.status, _),
        "kind": kind_label(item.kind, _),
        "channel": channel_label(item.channel, _),
        "topic": names.topics.get(item.topic_id or 0),
        "theme": theme,
        "settlement": settlement,
        "organisation": names.orgs.get(item.organisation_id or 0),
        "suggested": names.orgs.get(item.suggested_organisation_id or 0),
        "assignee": names.staff.get(item.assignee_id or 0),
        "resolution": resolution_label(item.resolution, _),
        "repeat_of": repeat_of,
        "repeats": repeats,
        "deadlines": [(label, local(due, tz), due is not None and due < now and done is None)
                      for label, due, done in (
                          (_("Регистрация"), item.due_registration_at, item.registered_at),
                          (_("Первая реакция"), item.due_first_reaction_at, item.first_reaction_at),
                          (_("Ответ"), item.due_answer_at, item.answered_at),
                          (_("Проверка ответа в МЦУ"), item.due_review_at,
                           item.delivered_at if item.status != S.under_review else None))
                      if due is not None],
        "times": [(label, local(at, tz)) for label, at in (
            (_("Получено"), item.received_at), (_("Зарегистрировано"), item.registered_at),
            (_("Первая реакция"), item.first_reaction_at), (_("Ответ дан"), item.answered_at),
            (_("Ответ направлен"), item.delivered_at), (_("Закрыто"), item.closed_at)) if at is not None],
        "paused": item.paused_since is not None,
        "contacts": contacts,
        "map_link": map_link(item, settlement),
        "events": timeline(events, names, tz, _),
        "letters": letters,
        "item_files": by_message.get(None, []),
        "all_files": files,
        "is_image": is_image,
        "actions": actions,
        "organisations": organisations,
        "resolutions": [(r.value, resolution_label(r.value, _)) for r in lc.STAFF_RESOLUTIONS],
        "due_value": "" if item.due_answer_at is None else item.due_answer_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
    }
    return await render(request, "item.html", context)


# --- files --------------------------------------------------------------------------------------------------


def _disposition(f: Attachment) -> str:
    # Only known raster images are shown inline; anything else (SVG, HTML …) is a download, so a
    # file a citizen sent can never run as a page of the admin.
    name = f.file_name or f"file-{f.id}"
    kind = "inline" if is_image(f) else "attachment"
    return f"{kind}; filename*=UTF-8''{quote(name)}"


def _content_type(f: Attachment) -> str:
    if f.kind == "photo" and (f.mime_type or "") not in IMAGE_TYPES:
        return "image/jpeg"  # Telegram stores photos as JPEG
    return f.mime_type or "application/octet-stream"


@requires()
async def file(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS]
    async with request.app[SESSIONMAKER]() as session, session.begin():
        item = _visible_or_403(request, await find(session, request.match_info["ref"]))
        f = await session.scalar(select(Attachment).where(Attachment.id == int(request.match_info["file_id"]),
                                                          Attachment.item_id == item.id))
    if f is None:
        raise web.HTTPNotFound()
    headers = {"Content-Type": _content_type(f), "Content-Disposition": _disposition(f),
               "Cache-Control": "private, max-age=3600"}
    if f.storage_path:
        path = Path(f.storage_path)
        if not path.is_absolute():
            path = settings.data_dir / path
        if path.is_file():
            return web.FileResponse(path, headers=headers)
    if not f.telegram_file_id:
        raise web.HTTPNotFound()
    base = (request.app[SANDBOX_URL] if settings.sandbox_mode and request.app[SANDBOX_URL]
            else settings.telegram_api_url).rstrip("/")
    http = request.app[HTTP]
    try:
        async with http.get(f"{base}/bot{settings.token}/getFile", params={"file_id": f.telegram_file_id}) as r:
            answer = await r.json(content_type=None)
        file_path = (answer.get("result") or {}).get("file_path") if answer.get("ok") else None
        if not file_path:
            raise web.HTTPNotFound()
        async with http.get(f"{base}/file/bot{settings.token}/{file_path}") as r:
            if r.status != 200:
                raise web.HTTPBadGateway()
            response = web.StreamResponse(headers=headers)
            if r.content_length is not None:
                response.content_length = r.content_length
            await response.prepare(request)
            async for chunk in r.content.iter_chunked(CHUNK):
                await response.write(chunk)
            await response.write_eof()
            return response
    except (ClientError, ValueError):
        # The URL holds the bot's token: say what failed, never where.
        log.warning("attachment id=%s: the Bot API did not give the file", f.id)
        raise web.HTTPBadGateway() from None


def setup(app: web.Application) -> None:
    app.router.add_get(f"/items/{REF}", page)
    app.router.add_post(f"/items/{REF}/action", act)
    app.router.add_get(f"/items/{REF}/files/{{file_id:\\d+}}", file)

"""The one door for every change of an item (design.md rule 2).

Each action checks that the change is legal, sets the status through `transition`, writes the
history (actor, time, old → new), moves deadlines, and queues every notification in the outbox —
all inside the caller's transaction; the caller commits. Illegal changes raise `TransitionError`
whose text (Russian, or the reader's language via `localized`) is fit to show the person who tried.

Who is told what:
* registered → the responsible officer of the channel gets the triage card (or the item is routed
  at once when the option allows and exactly one rule matches);
* assigned / redirected → the organisation's officials get the card (Telegram, else e-mail), the
  citizen learns where it went and the deadline;
* questions, interim answers and the final answer reach the citizen; the citizen's replies reach
  the official; answers go through the centre's review when the option says so;
* "not ours", extension requests, a reopened item → the centre.
"""
from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.actors import SYSTEM, Actor
from core.i18n import LocalizedError, gettext_for, language_of
from core.staff import CHANNEL_OFFICER
from db.models import (
    Attachment,
    Citizen,
    Item,
    ItemEvent,
    ItemMessage,
    Organisation,
    OutboxPriority,
    Resolution,
    Role,
    Staff,
    Status,
    Topic,
)

if TYPE_CHECKING:
    from core.cards import CardData
    from core.deadlines import DeadlineContext, DeadlineContextCache
    from core.intake import FileIn
    from core.options import Options
    from core.settings import Settings

log = logging.getLogger(__name__)
S = Status
Gettext = Callable[[str], str]


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated when shown."""
    return message


# The statuses of domain.md and where each may go next. An open item may also be closed as a
# duplicate of another (`merge_duplicate`); `close` itself only closes a delivered or reopened one.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.received: frozenset({S.registered, S.rejected, S.withdrawn}),
    S.registered: frozenset({S.assigned, S.redirected, S.rejected, S.withdrawn, S.closed}),
    S.assigned: frozenset({S.in_work, S.redirected, S.registered, S.withdrawn, S.closed}),
    S.in_work: frozenset({S.interim_answer, S.answered, S.redirected, S.registered, S.withdrawn, S.closed}),
    S.interim_answer: frozenset({S.answered, S.redirected, S.registered, S.withdrawn, S.closed}),
    S.answered: frozenset({S.under_review, S.delivered}),
    S.under_review: frozenset({S.delivered, S.returned, S.closed}),
    S.returned: frozenset({S.in_work, S.answered, S.redirected, S.registered, S.closed}),
    S.delivered: frozenset({S.closed, S.reopened}),
    S.redirected: frozenset({S.assigned, S.registered, S.closed}),
    S.reopened: frozenset({S.assigned, S.in_work, S.redirected, S.registered, S.answered, S.closed}),
    S.closed: frozenset({S.reopened}),
    S.withdrawn: frozenset(),
    S.rejected: frozenset(),
}
FINAL = frozenset({S.closed, S.withdrawn, S.rejected})
# Where an official may work on the item (ask, answer, interim answer).
WORKING = frozenset({S.assigned, S.in_work, S.interim_answer, S.returned, S.reopened})


class TransitionError(LocalizedError):
    """An illegal change, with the reason in words."""

    def localized_values(self, _: Gettext) -> dict[str, Any]:
        from core.cards import status_label

        values = dict(self.values)
        if "status" in values:
            values["status"] = status_label(str(values["status"]), _)
        return values


def record_event(
    session: AsyncSession,
    item: Item,
    action: str,
    actor: Actor,
    at: datetime,
    *,
    field: str | None = None,
    old: object = None,
    new: object = None,
    comment: str | None = None,
) -> ItemEvent:
    event = ItemEvent(
        item_id=item.id,
        at=at,
        action=action,
        actor_kind=actor.kind,
        actor_citizen_id=actor.citizen_id,
        actor_staff_id=actor.staff_id,
        field=field,
        old_value=None if old is None else str(old)[:512],
        new_value=None if new is None else str(new)[:512],
        comment=comment,
    )
    session.add(event)
    return event


def transition(
    session: AsyncSession,
    item: Item,
    target: Status,
    actor: Actor,
    at: datetime,
    *,
    comment: str | None = None,
) -> None:
    current = Status(item.status)
    if target not in TRANSITIONS[current]:
        raise TransitionError(
            N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
            number=item.number, status=current,
        )
    item.status = target
    if target is S.registered and item.registered_at is None:
        item.registered_at = at
    record_event(session, item, "status", actor, at, field="status", old=current.value, new=target.value,
                 comment=comment)


# --- context ---------------------------------------------------------------------------------------


@dataclass
class LifecycleContext:
    """What every action needs besides the item: one per update, request or tick."""

    session: AsyncSession
    now: datetime
    tz: ZoneInfo
    options: Options
    deadlines: DeadlineContext
    admin_url: str


async def lifecycle_context(
    session: AsyncSession, settings: Settings, now: datetime,
    deadline_cache: DeadlineContextCache | None = None,
) -> LifecycleContext:
    from core.deadlines import load_deadline_context
    from core.options import load_options

    options = await load_options(session)
    if deadline_cache is not None:
        deadlines = await deadline_cache.get(session)
    else:
        deadlines = await load_deadline_context(session, settings.tz,
                                                move_to_working_day=options.move_to_working_day)
    return LifecycleContext(session, now, settings.tz, options, deadlines, settings.admin_base_url)


async def load_item(session: AsyncSession, item_id: int, *, lock: bool = True) -> Item | None:
    """The item, locked for the change on PostgreSQL so two officials cannot both change it."""
    query = select(Item).where(Item.id == item_id).execution_options(populate_existing=True)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def find_by_number(session: AsyncSession, text: str, now: datetime, tz: ZoneInfo) -> Item | None:
    """`2026-000042`, or `42` for this year's item."""
    text = text.strip().lstrip("№").strip()
    if text.isdigit():
        text = f"{now.astimezone(tz).year}-{int(text):06d}"
    return await session.scalar(select(Item).where(Item.number == text))


# --- rights ----------------------------------------------------------------------------------------

TRIAGE_ACTIONS = frozenset({"route", "pick"})
RECIPIENT_ACTIONS = frozenset({"accept", "ask", "interim", "answer", "notours", "extend"})
REVIEW_ACTIONS = frozenset({"approve", "rework"})
EXTENSION_ACTIONS = frozenset({"extyes", "extno"})
# What only the centre does, from the admin: a deadline by hand, an extension without a request,
# the answer on an organisation's behalf, closing, reopening, merging duplicates.
CENTRE_ACTIONS = frozenset({"deadline", "prolong", "behalf", "close", "reopen", "merge"})
CENTRE_ROLES = frozenset({Role.curator, Role.head, Role.admin})


def allowed_actions(staff: Staff | None, item: Item) -> frozenset[str]:
    if staff is None or not staff.is_active:
        return frozenset()
    roles = staff.role_set
    actions: set[str] = set()
    officer = CHANNEL_OFFICER.get(item.channel)
    if roles & CENTRE_ROLES or (officer is not None and officer in roles):
        actions |= TRIAGE_ACTIONS | {"card"}
    if roles & CENTRE_ROLES:
        actions |= REVIEW_ACTIONS | EXTENSION_ACTIONS | CENTRE_ACTIONS
    if Role.recipient in roles and staff.organisation_id is not None and staff.organisation_id == item.organisation_id:
        actions |= RECIPIENT_ACTIONS | {"card"}
    if Role.analyst in roles:
        actions.add("card")
    return frozenset(actions)


def may(staff: Staff | None, item: Item, action: str) -> bool:
    return action in allowed_actions(staff, item)


def extendable(ctx: LifecycleContext, item: Item) -> bool:
    """Whether the item's deadline policy allows an extension at all."""
    return ctx.deadlines.book.durations_of(item).extension is not None


# --- who gets told ---------------------------------------------------------------------------------


async def reviewers(session: AsyncSession) -> list[Staff]:
    from core.routing import first_holders

    return await first_holders(session, Role.curator, Role.head, Role.admin)


async def triage_officers(session: AsyncSession, item: Item) -> list[Staff]:
    from core.routing import triage_officers as officers

    return await officers(session, item.channel)


async def item_officials(session: AsyncSession, item: Item) -> list[Staff]:
    """Who works the item now: its assignee, else the organisation's officials."""
    if item.assignee_id is not None:
        assignee = await session.get(Staff, item.assignee_id)
        if assignee is not None and assignee.is_active:
            return [assignee]
    if item.organisation_id is None:
        return []
    from core.routing import officials_of

    return await officials_of(session, item.organisation_id)


FILE_METHODS = {"photo": "sendPhoto", "document": "sendDocument", "voice": "sendVoice", "audio": "sendAudio",
                "video": "sendVideo"}


def _queue_files(ctx: LifecycleContext, chat_id: int, files: Sequence[Attachment], caption: str,
                 priority: int, item_id: int) -> None:
    from db.models import OutboxMessage

    for f in files:
        if not f.telegram_file_id:
            continue
        method = FILE_METHODS.get(f.kind, "sendDocument")
        field = method.removeprefix("send").lower()
        ctx.session.add(OutboxMessage(
            transport="telegram", chat_id=chat_id, method=method, priority=priority, item_id=item_id,
            payload={field: f.telegram_file_id, "caption": caption, "parse_mode": "HTML"},
        ))


_TAG = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


Build = Callable[[Gettext], tuple[str, dict[str, Any] | None]]


async def tell_staff(
    ctx: LifecycleContext, people: Iterable[Staff], item: Item, build: Build, *,
    priority: int = OutboxPriority.alert, files: Sequence[Attachment] = (),
) -> int:
    """Queue a message to each person: Telegram if they have it, else e-mail. Returns how many."""
    from core import outbox

    told = 0
    for person in people:
        _ = gettext_for(person.language)
        text, markup = build(_)
        if person.telegram_id is not None:
            outbox.enqueue_message(ctx.session, person.telegram_id, text, priority=priority, reply_markup=markup,
                                   item_id=item.id)
            _queue_files(ctx, person.telegram_id, files, f"№ {item.number}", priority, item.id)
        elif person.email:
            link = f"{ctx.admin_url}/items/{item.id}"
            body = _plain(text) + "\n\n" + _("Карточка в системе МЦУ: {link}").format(link=link)
            if files:
                body += "\n" + _("Вложения — в карточке.")
            outbox.enqueue_email(ctx.session, person.email, _("МЦУ: № {number}").format(number=item.number),
                                 body, priority=priority, item_id=item.id)
        else:
            continue
        told += 1
    return told


async def tell_citizen(
    ctx: LifecycleContext, item: Item, build: Build, *, files: Sequence[Attachment] = (),
    priority: int = OutboxPriority.dialogue,
) -> bool:
    """Queue a message to the item's citizen: Telegram, else the e-mail given for the answer."""
    from core import outbox

    citizen = None if item.citizen_id is None else await ctx.session.get(Citizen, item.citizen_id)
    language = citizen.language if citizen is not None else None
    _ = gettext_for(language)
    text, markup = build(_)
    chat_id = citizen.telegram_id if citizen is not None and citizen.erased_at is None else None
    address = item.reply_address or (citizen.email if citizen is not None else None)
    if chat_id is not None and citizen is not None and citizen.unreachable_since is not None \
            and address and "@" in address:
        chat_id = None  # the bot is blocked: the e-mail given for the answer still reaches them
    if chat_id is not None:
        outbox.enqueue_message(ctx.session, chat_id, text, priority=priority, reply_markup=markup, item_id=item.id)
        _queue_files(ctx, chat_id, files, f"№ {item.number}", priority, item.id)
        return True
    if address and "@" in address:
        body = _plain(text)
        if files:
            body += "\n\n" + _("К ответу приложены файлы; их можно получить в администрации.")
        outbox.enqueue_email(ctx.session, address.strip(), _("Ответ на обращение № {number}").format(number=item.number),
                             body, priority=priority, item_id=item.id)
        return True
    return False


def _card_build(ctx: LifecycleContext, data: CardData, header: Callable[[Gettext], str],
                buttons: Callable[[Any, Gettext], Any], *, footer: Callable[[Gettext], str] | None = None) -> Build:
    from core.cards import card_text, keyboard

    def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
        d = data.in_language(language_of(_))
        text = header(_) + "\n\n" + card_text(d, ctx.now, ctx.tz, _, with_applicant=True)
        if footer is not None:
            text += "\n\n" + footer(_)
        return text, keyboard(buttons(d, _))

    return build


async def _cards(ctx: LifecycleContext, item: Item) -> CardData:
    from core.cards import card_data

    await ctx.session.flush()
    return await card_data(ctx.session, item, None)


async def _attachments(ctx: LifecycleContext, item: Item, message_id: int | None = None,
                       *, item_level: bool = False) -> list[Attachment]:
    query = select(Attachment).where(Attachment.item_id == item.id).order_by(Attachment.id)
    if item_level:
        query = query.where(Attachment.message_id.is_(None))
    elif message_id is not None:
        query = query.where(Attachment.message_id == message_id)
    return list((await ctx.session.scalars(query)).all())


def attach_files(session: AsyncSession, item: Item, message_id: int | None, files: Sequence[FileIn]) -> None:
    for f in files:
        session.add(Attachment(
            item_id=item.id, message_id=message_id, kind=f.kind, telegram_file_id=f.telegram_file_id,
            telegram_file_unique_id=f.telegram_file_unique_id, file_name=f.file_name, mime_type=f.mime_type,
            size=f.size,
        ))


async def _message(ctx: LifecycleContext, item: Item, kind: str, text: str, files: Sequence[FileIn], *,
                   staff: Staff | None = None, citizen: Citizen | None = None,
                   reply_to_id: int | None = None) -> ItemMessage:
    message = ItemMessage(item_id=item.id, kind=kind, text=text, created_at=ctx.now,
                          author_staff_id=staff.id if staff else None,
                          author_citizen_id=citizen.id if citizen else None, reply_to_id=reply_to_id)
    ctx.session.add(message)
    await ctx.session.flush()
    attach_files(ctx.session, item, message.id, files)
    await ctx.session.flush()
    return message


def _local(ctx: LifecycleContext, dt: datetime | None) -> str:
    from core.cards import local

    return local(dt, ctx.tz)


async def _plan_reminders(ctx: LifecycleContext, item: Item) -> None:
    from core import reminders

    await reminders.plan_for_item(ctx, item)


async def _cancel_reminders(ctx: LifecycleContext, item: Item) -> None:
    from core import reminders

    await reminders.cancel_for_item(ctx, item)


def _require(condition: bool, message: str, **values: Any) -> None:
    if not condition:
        raise TransitionError(message, **values)


def _require_text(text: str, what: str) -> str:
    text = (text or "").strip()
    _require(bool(text), N_("Нужен текст: {what}."), what=what)
    return text


# --- registration and routing -----------------------------------------------------------------------

_NUMBER = re.compile(r"\b(20\d{2})\s*-\s*(\d{6})\b")
REPEAT_WINDOW = timedelta(days=30)


async def link_repeat(ctx: LifecycleContext, item: Item) -> Item | None:
    """An earlier item the citizen cites by number, or the same citizen, topic and settlement within
    30 days: the new item is повторное."""
    session = ctx.session
    earlier = None
    for year, seq in _NUMBER.findall(item.text or ""):
        cited = await session.scalar(select(Item).where(Item.number == f"{year}-{seq}", Item.id != item.id))
        if cited is not None and (cited.citizen_id == item.citizen_id or item.citizen_id is None):
            earlier = cited
            break
    if earlier is None and None not in (item.citizen_id, item.topic_id, item.settlement_id):
        earlier = await session.scalar(
            select(Item)
            .where(Item.citizen_id == item.citizen_id, Item.topic_id == item.topic_id,
                   Item.settlement_id == item.settlement_id, Item.id != item.id,
                   Item.received_at >= item.received_at - REPEAT_WINDOW, Item.received_at <= item.received_at,
                   Item.status.notin_([S.received.value, S.withdrawn.value]))
            .order_by(Item.received_at.desc())
            .limit(1)
        )
    if earlier is not None and item.repeat_of_id is None:
        item.repeat_of_id = earlier.id
        record_event(session, item, "repeat", SYSTEM, ctx.now, field="repeat_of", new=earlier.number)
    return earlier


async def after_registration(ctx: LifecycleContext, item: Item, *, triage_card: bool = True) -> None:
    """The item has just become `registered`: mark a repeat, then route it or ask the officer.

    A bulk import passes `triage_card=False` and tells the officer once (`tell_import`): the items
    wait in `/queue`, and two thousand cards would take half an hour of Telegram's limits.
    """
    from core.routing import suggest_route

    await link_repeat(ctx, item)
    suggestion = await suggest_route(ctx.session, item)
    item.suggested_organisation_id = suggestion.organisation_ids[0] if suggestion.organisation_ids else None
    if ctx.options.auto_route and suggestion.unambiguous and item.suggested_organisation_id is not None:
        await assign(ctx, item, item.suggested_organisation_id, SYSTEM, comment="auto-routing: one rule matches")
        return
    if triage_card:
        await send_triage_card(ctx, item)


async def tell_import(ctx: LifecycleContext, channel: str, file_name: str, items: Sequence[Item]) -> int:
    """One message to the channel's officers about an imported file's items that wait for routing."""
    waiting = [i for i in items if i.status == S.registered]
    if not waiting:
        return 0
    from core.routing import triage_officers as officers

    return await tell_staff(ctx, await officers(ctx.session, channel), waiting[0], lambda _: (
        _("<b>Импорт «{file}»</b>: ждут распределения {count} (с № {first} по № {last}). "
          "Откройте /queue.").format(file=html.escape(file_name), count=len(waiting),
                                     first=waiting[0].number, last=waiting[-1].number), None))


async def send_triage_card(ctx: LifecycleContext, item: Item, *, reason: str | None = None) -> int:
    from core.cards import triage_buttons

    cards = await _cards(ctx, item)

    def header(_: Gettext) -> str:
        if reason:
            return _("<b>Вернули как «не наше»</b>: {reason}").format(reason=html.escape(reason)) + "\n" + \
                _("Выберите другого исполнителя.")
        return _("<b>Новое на распределение</b>")

    build = _card_build(ctx, cards, header, triage_buttons)
    officers = await triage_officers(ctx.session, item)
    told = await tell_staff(ctx, officers, item, build, priority=OutboxPriority.alert,
                            files=await _attachments(ctx, item, item_level=True))
    if not told:
        log.warning("item %s: nobody holds a triage role for channel %s", item.id, item.channel)
    return told


async def assign(ctx: LifecycleContext, item: Item, organisation_id: int, actor: Actor,
                 comment: str | None = None) -> None:
    """Send the item to an organisation; if it already is with another one, that is a redirect."""
    from core.deadlines import recompute_on_redirect

    session = ctx.session
    org = await session.get(Organisation, organisation_id)
    _require(org is not None and org.is_active, N_("Такой организации нет в справочнике или она отключена."))
    assert org is not None
    current = Status(item.status)
    _require(current not in FINAL and current not in (S.received, S.answered, S.under_review, S.delivered),
             N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
             number=item.number, status=current)
    _require(not (item.organisation_id == organisation_id and current in (S.assigned, S.in_work, S.interim_answer,
                                                                          S.returned)),
             N_("Обращение № {number} уже у этой организации."), number=item.number)
    redirect = item.organisation_id is not None and item.organisation_id != organisation_id
    if redirect and current is not S.redirected:
        transition(session, item, S.redirected, actor, ctx.now, comment=comment)
    old_org = item.organisation_id
    item.organisation_id = organisation_id
    item.assignee_id = None
    record_event(session, item, "route", actor, ctx.now, field="organisation", old=old_org, new=organisation_id,
                 comment=comment)
    transition(session, item, S.assigned, actor, ctx.now, comment=comment)
    if redirect:
        await recompute_on_redirect(session, item, ctx.now, ctx.deadlines.calendar, ctx.deadlines.book, actor)
    from core.routing import officials_of

    officials = await officials_of(session, organisation_id)
    cards = await _cards(ctx, item)
    from core.cards import recipient_buttons

    build = _card_build(ctx, cards, lambda _: _("<b>Вам направлено</b>") if not redirect else
                        _("<b>Вам перенаправлено</b>"), lambda d, _: recipient_buttons(d.item, _, extendable=extendable(ctx, d.item)))
    files = await _attachments(ctx, item)
    told = await tell_staff(ctx, officials, item, build, priority=OutboxPriority.alert, files=files)
    if not told and org.email:
        told = await tell_staff(ctx, [Staff(name=org.name, email=org.email)], item, build)
    if not told:
        record_event(session, item, "no_contact", SYSTEM, ctx.now, comment=org.name)
        await tell_staff(ctx, await triage_officers(session, item), item,
                         lambda _: (_("У организации «{org}» нет ни Telegram, ни e-mail: № {number} "
                                      "нужно передать ей вручную.").format(org=html.escape(org.name),
                                                                            number=item.number), None))
    await tell_citizen(ctx, item, lambda _: (
        _("Ваше обращение № {number} передано исполнителю: {org}. Срок ответа — {due}.").format(
            number=item.number, org=html.escape(org.name), due=_local(ctx, item.due_answer_at)), None))
    await _plan_reminders(ctx, item)


# --- the recipient's work ----------------------------------------------------------------------------


def _start_work(ctx: LifecycleContext, item: Item, staff: Staff) -> bool:
    """Take the item in work if it is not yet; True when this was the first reaction."""
    actor = Actor.staff(staff.id)
    if item.status in (S.assigned, S.returned, S.reopened):
        transition(ctx.session, item, S.in_work, actor, ctx.now)
    if item.assignee_id != staff.id:
        record_event(ctx.session, item, "assignee", actor, ctx.now, field="assignee", old=item.assignee_id,
                     new=staff.id)
        item.assignee_id = staff.id
    first = item.first_reaction_at is None
    if first:
        item.first_reaction_at = ctx.now
    return first


def _require_working(item: Item) -> None:
    _require(Status(item.status) in WORKING,
             N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
             number=item.number, status=Status(item.status))


async def accept(ctx: LifecycleContext, item: Item, staff: Staff) -> None:
    _require(Status(item.status) in (S.assigned, S.returned, S.reopened),
             N_("Обращение № {number} уже в работе или закрыто (статус «{status}»)."),
             number=item.number, status=Status(item.status))
    if _start_work(ctx, item, staff):
        await tell_citizen(ctx, item, lambda _: (
            _("Ваше обращение № {number} принято в работу.").format(number=item.number), None))


async def ask_citizen(ctx: LifecycleContext, item: Item, staff: Staff, text: str) -> ItemMessage:
    from core.cards import item_button, keyboard
    from core.deadlines import pause

    text = _require_text(text, N_("вопрос"))
    _require_working(item)
    citizen = None if item.citizen_id is None else await ctx.session.get(Citizen, item.citizen_id)
    _require(citizen is not None and citizen.telegram_id is not None,
             N_("У заявителя нет Telegram: задайте вопрос по телефону или почте, указанным в карточке."))
    _start_work(ctx, item, staff)
    message = await _message(ctx, item, "question", text, (), staff=staff)
    record_event(ctx.session, item, "question", Actor.staff(staff.id), ctx.now, comment=text[:500])
    if ctx.options.pause_while_waiting:
        pause(ctx.session, item, ctx.now, Actor.staff(staff.id))
    await tell_citizen(ctx, item, lambda _: (
        _("<b>Вопрос по вашему обращению № {number}</b>").format(number=item.number) + "\n\n"
        + html.escape(text) + "\n\n" + _("Нажмите «Ответить» и напишите ответ."),
        keyboard([[item_button(_("Ответить"), "reply", item.id)]])))
    return message


async def citizen_reply(ctx: LifecycleContext, item: Item, citizen: Citizen, text: str,
                        files: Sequence[FileIn] = ()) -> ItemMessage:
    from core.cards import item_button, keyboard
    from core.deadlines import resume

    _require(item.citizen_id == citizen.id, N_("Это не ваше обращение."))
    _require(Status(item.status) not in FINAL, N_("Обращение № {number} уже закрыто."), number=item.number)
    _require(bool((text or "").strip()) or bool(files), N_("Нужен текст: {what}."), what=N_("ответ"))
    question = await ctx.session.scalar(
        select(ItemMessage).where(ItemMessage.item_id == item.id, ItemMessage.kind == "question")
        .order_by(ItemMessage.id.desc()).limit(1))
    message = await _message(ctx, item, "reply", text.strip(), files, citizen=citizen,
                             reply_to_id=question.id if question else None)
    record_event(ctx.session, item, "citizen_reply", Actor.citizen(citizen.id), ctx.now, comment=text[:500])
    if item.paused_since is not None:
        resume(ctx.session, item, ctx.now, ctx.deadlines.calendar, Actor.citizen(citizen.id))
        await _plan_reminders(ctx, item)
    attachments = await _attachments(ctx, item, message.id)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        _("<b>Ответ заявителя по № {number}</b>").format(number=item.number) + "\n\n"
        + (html.escape(text.strip()) or _("(без текста, см. вложения)")),
        keyboard([[item_button(_("Открыть карточку"), "card", item.id)]])),
        priority=OutboxPriority.dialogue, files=attachments)
    return message


async def interim_answer(ctx: LifecycleContext, item: Item, staff: Staff, text: str,
                         files: Sequence[FileIn] = ()) -> ItemMessage:
    text = _require_text(text, N_("промежуточный ответ"))
    _require_working(item)
    _start_work(ctx, item, staff)
    if item.status != S.interim_answer:
        transition(ctx.session, item, S.interim_answer, Actor.staff(staff.id), ctx.now)
    message = await _message(ctx, item, "interim", text, files, staff=staff)
    attachments = await _attachments(ctx, item, message.id)
    await tell_citizen(ctx, item, lambda _: (
        _("<b>Промежуточный ответ по обращению № {number}</b>").format(number=item.number) + "\n\n"
        + html.escape(text) + "\n\n" + _("Окончательный ответ мы пришлём, когда работа будет закончена."), None),
        files=attachments)
    return message


def needs_review(ctx: LifecycleContext, topic_code: str | None) -> bool:
    mode = ctx.options.review_mode
    if mode == "never":
        return False
    if mode == "topics":
        return topic_code is not None and topic_code in ctx.options.review_topics
    return True


async def answer(ctx: LifecycleContext, item: Item, staff: Staff, text: str,
                 files: Sequence[FileIn] = ()) -> ItemMessage:
    text = _require_text(text, N_("ответ"))
    _require_working(item)
    _start_work(ctx, item, staff)
    actor = Actor.staff(staff.id)
    transition(ctx.session, item, S.answered, actor, ctx.now)
    item.answered_at = ctx.now
    message = await _message(ctx, item, "answer", text, files, staff=staff)
    await _cancel_reminders(ctx, item)
    topic = None if item.topic_id is None else await ctx.session.scalar(
        select(Topic.code).where(Topic.id == item.topic_id))
    if not needs_review(ctx, topic):
        await deliver(ctx, item, message, actor)
        return message
    transition(ctx.session, item, S.under_review, actor, ctx.now)
    durations = ctx.deadlines.book.durations_of(item)
    if durations.review is not None:
        item.due_review_at = ctx.deadlines.calendar.add(ctx.now, durations.review)
    attachments = await _attachments(ctx, item, message.id)
    cards = await _cards(ctx, item)
    from core.cards import excerpt, review_buttons

    build = _card_build(
        ctx, cards, lambda _: _("<b>Ответ на проверку</b> от {name}").format(name=html.escape(staff.name)),
        lambda d, _: review_buttons(d.item, _),
        # The card and the answer share one message (≤ 4096 characters); the full text is on record.
        footer=lambda _: _("<b>Текст ответа:</b>") + "\n" + excerpt(text, 2000))
    await tell_staff(ctx, await reviewers(ctx.session), item, build, priority=OutboxPriority.alert,
                     files=attachments)
    return message


async def latest_answer(session: AsyncSession, item: Item) -> ItemMessage | None:
    return await session.scalar(
        select(ItemMessage).where(ItemMessage.item_id == item.id, ItemMessage.kind == "answer")
        .order_by(ItemMessage.id.desc()).limit(1))


async def deliver(ctx: LifecycleContext, item: Item, message: ItemMessage, actor: Actor) -> None:
    """The answer goes to the citizen with its files; then the survey is planned."""
    from core import surveys

    transition(ctx.session, item, S.delivered, actor, ctx.now)
    item.delivered_at = ctx.now
    attachments = await _attachments(ctx, item, message.id)
    reached = await tell_citizen(ctx, item, lambda _: (
        _("<b>Ответ на ваше обращение № {number}</b>").format(number=item.number) + "\n\n"
        + html.escape(message.text), None), files=attachments)
    if not reached:
        record_event(ctx.session, item, "deliver_by_post", SYSTEM, ctx.now)
        await tell_staff(ctx, await triage_officers(ctx.session, item), item, lambda _: (
            _("Ответ по № {number} утверждён, но у заявителя нет Telegram и e-mail: отправьте его почтой "
              "по адресу из карточки.").format(number=item.number), None))
    await surveys.plan_survey(ctx, item)


async def approve(ctx: LifecycleContext, item: Item, staff: Staff) -> None:
    _require(item.status == S.under_review,
             N_("Ответ по № {number} уже не на проверке (статус «{status}»)."),
             number=item.number, status=Status(item.status))
    message = await latest_answer(ctx.session, item)
    assert message is not None
    actor = Actor.staff(staff.id)
    record_event(ctx.session, item, "review", actor, ctx.now, new="approved")
    await deliver(ctx, item, message, actor)
    author = None if message.author_staff_id is None else await ctx.session.get(Staff, message.author_staff_id)
    if author is not None and author.id != staff.id:
        await tell_staff(ctx, [author], item, lambda _: (
            _("Ваш ответ по № {number} утверждён и отправлен заявителю.").format(number=item.number), None),
            priority=OutboxPriority.reminder)


async def return_for_rework(ctx: LifecycleContext, item: Item, staff: Staff, comment: str) -> None:
    from core.cards import recipient_buttons

    comment = _require_text(comment, N_("что исправить"))
    _require(item.status == S.under_review,
             N_("Ответ по № {number} уже не на проверке (статус «{status}»)."),
             number=item.number, status=Status(item.status))
    actor = Actor.staff(staff.id)
    answer_message = await latest_answer(ctx.session, item)
    await _message(ctx, item, "review_comment", comment, (), staff=staff,
                   reply_to_id=answer_message.id if answer_message else None)
    transition(ctx.session, item, S.returned, actor, ctx.now, comment=comment)
    record_event(ctx.session, item, "review", actor, ctx.now, new="returned", comment=comment)
    cards = await _cards(ctx, item)
    build = _card_build(ctx, cards, lambda _: _("<b>Ответ возвращён на доработку</b>") + "\n"
                        + _("Замечание МЦУ: {comment}").format(comment=html.escape(comment)),
                        lambda d, _: recipient_buttons(d.item, _, extendable=extendable(ctx, d.item)))
    await tell_staff(ctx, await item_officials(ctx.session, item), item, build, priority=OutboxPriority.alert)
    await _plan_reminders(ctx, item)


async def return_not_ours(ctx: LifecycleContext, item: Item, staff: Staff, reason: str) -> None:
    reason = _require_text(reason, N_("причина"))
    _require(Status(item.status) in (S.assigned, S.in_work, S.interim_answer, S.returned),
             N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
             number=item.number, status=Status(item.status))
    actor = Actor.staff(staff.id)
    record_event(ctx.session, item, "route", actor, ctx.now, field="organisation", old=item.organisation_id,
                 new=None, comment=reason)
    transition(ctx.session, item, S.registered, actor, ctx.now, comment=reason)
    item.organisation_id = None
    item.assignee_id = None
    await _cancel_reminders(ctx, item)
    await send_triage_card(ctx, item, reason=reason)


async def request_extension(ctx: LifecycleContext, item: Item, staff: Staff, reason: str) -> None:
    from core.cards import extension_buttons

    reason = _require_text(reason, N_("причина продления"))
    _require_working(item)
    _require(not item.extended, N_("Срок по № {number} уже продлевался; закон позволяет это один раз."),
             number=item.number)
    _require(item.extension_requested_at is None, N_("Запрос на продление по № {number} уже отправлен."),
             number=item.number)
    _require(ctx.deadlines.book.durations_of(item).extension is not None,
             N_("Для этого вида обращений продление срока не предусмотрено."))
    item.extension_requested_at = ctx.now
    record_event(ctx.session, item, "extension_requested", Actor.staff(staff.id), ctx.now, comment=reason)
    cards = await _cards(ctx, item)
    build = _card_build(ctx, cards, lambda _: _("<b>Просьба продлить срок</b> от {name}: {reason}").format(
        name=html.escape(staff.name), reason=html.escape(reason)), lambda d, _: extension_buttons(d.item, _))
    await tell_staff(ctx, await reviewers(ctx.session), item, build, priority=OutboxPriority.alert)


async def _grant_extension(ctx: LifecycleContext, item: Item, actor: Actor, comment: str | None = None) -> None:
    """The answer term grows once by the policy's extension; the citizen is told (59-ФЗ ст. 12 ч. 2)."""
    from core.deadlines import extend

    _require(not item.extended, N_("Срок по № {number} уже продлевался; закон позволяет это один раз."),
             number=item.number)
    _require(item.due_answer_at is not None, N_("У № {number} нет срока ответа, продлевать нечего."),
             number=item.number)
    _require(ctx.deadlines.book.durations_of(item).extension is not None,
             N_("Для этого вида обращений продление срока не предусмотрено."))
    await extend(ctx.session, item, ctx.now, ctx.deadlines.calendar, ctx.deadlines.book, actor, comment)
    await tell_citizen(ctx, item, lambda _: (
        _("Срок рассмотрения вашего обращения № {number} продлён до {due} (ч. 2 ст. 12 59-ФЗ).").format(
            number=item.number, due=_local(ctx, item.due_answer_at)), None))
    await _plan_reminders(ctx, item)


async def decide_extension(ctx: LifecycleContext, item: Item, staff: Staff, approved: bool) -> None:
    _require(item.extension_requested_at is not None, N_("По № {number} нет запроса на продление."),
             number=item.number)
    actor = Actor.staff(staff.id)
    item.extension_requested_at = None
    if approved:
        await _grant_extension(ctx, item, actor)
    else:
        record_event(ctx.session, item, "extension_refused", actor, ctx.now)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        (_("Продление по № {number} одобрено, новый срок — {due}.") if approved
         else _("В продлении срока по № {number} отказано; срок — {due}.")).format(
            number=item.number, due=_local(ctx, item.due_answer_at)), None))


# --- the citizen and the centre ------------------------------------------------------------------------


async def withdraw(ctx: LifecycleContext, item: Item, citizen: Citizen) -> None:
    _require(item.citizen_id == citizen.id, N_("Это не ваше обращение."))
    _require(S.withdrawn in TRANSITIONS[Status(item.status)],
             N_("Обращение № {number} уже нельзя отозвать (статус «{status}»)."),
             number=item.number, status=Status(item.status))
    transition(ctx.session, item, S.withdrawn, Actor.citizen(citizen.id), ctx.now)
    item.closed_at = ctx.now
    await _cancel_reminders(ctx, item)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        _("Заявитель отозвал обращение № {number}; работу по нему можно прекратить.").format(
            number=item.number), None))


async def reject(ctx: LifecycleContext, item: Item, staff: Staff, reason: str) -> None:
    reason = _require_text(reason, N_("причина"))
    transition(ctx.session, item, S.rejected, Actor.staff(staff.id), ctx.now, comment=reason)
    item.closed_at = ctx.now
    await _cancel_reminders(ctx, item)
    await tell_citizen(ctx, item, lambda _: (
        _("Обращение № {number} не может быть рассмотрено МЦУ: {reason}").format(
            number=item.number, reason=html.escape(reason)), None))


async def close(ctx: LifecycleContext, item: Item, actor: Actor, resolution: Resolution,
                comment: str | None = None) -> None:
    _require(item.status in (S.delivered, S.reopened),
             N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
             number=item.number, status=Status(item.status))
    transition(ctx.session, item, S.closed, actor, ctx.now, comment=comment)
    item.resolution = resolution
    item.closed_at = ctx.now
    record_event(ctx.session, item, "resolution", actor, ctx.now, field="resolution", new=resolution.value,
                 comment=comment)
    await _cancel_reminders(ctx, item)


async def reopen(ctx: LifecycleContext, item: Item, actor: Actor, reason: str) -> None:
    """The citizen is not satisfied (or the centre disagrees): the organisation works again."""
    from core.cards import recipient_buttons
    from core.deadlines import recompute_on_redirect

    reason = _require_text(reason, N_("причина"))
    _require(item.status in (S.delivered, S.closed),
             N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
             number=item.number, status=Status(item.status))
    _require(item.resolution != DUPLICATE,
             N_("№ {number} закрыто как дубликат; работа идёт по основному обращению."), number=item.number)
    transition(ctx.session, item, S.reopened, actor, ctx.now, comment=reason)
    old_resolution = item.resolution
    item.resolution = None
    item.closed_at = None
    item.answered_at = None
    if old_resolution:
        record_event(ctx.session, item, "resolution", actor, ctx.now, field="resolution", old=old_resolution)
    by_centre = actor.staff_id is not None
    await _message(ctx, item, "reopen", reason, (),
                   staff=await ctx.session.get(Staff, actor.staff_id) if by_centre else None,
                   citizen=await ctx.session.get(Citizen, actor.citizen_id) if actor.citizen_id else None)
    await recompute_on_redirect(ctx.session, item, ctx.now, ctx.deadlines.calendar, ctx.deadlines.book, actor)
    cards = await _cards(ctx, item)
    build = _card_build(ctx, cards, lambda _: _("<b>Обращение возобновлено</b>: {reason}").format(
        reason=html.escape(reason)), lambda d, _: recipient_buttons(d.item, _, extendable=extendable(ctx, d.item)))
    await tell_staff(ctx, await item_officials(ctx.session, item), item, build, priority=OutboxPriority.alert)
    centre = [p for p in await triage_officers(ctx.session, item) if p.id != actor.staff_id]
    if by_centre:
        # The centre reopened it (from the admin): the citizen learns that the work goes on.
        await tell_staff(ctx, centre, item, lambda _: (
            _("Обращение № {number} возобновлено МЦУ: {reason}").format(
                number=item.number, reason=html.escape(reason)), None))
        await tell_citizen(ctx, item, lambda _: (
            _("Работа по вашему обращению № {number} возобновлена. Срок ответа — {due}.").format(
                number=item.number, due=_local(ctx, item.due_answer_at)), None))
    else:
        await tell_staff(ctx, centre, item, lambda _: (
            _("Заявитель недоволен ответом по № {number}, обращение возобновлено: {reason}").format(
                number=item.number, reason=html.escape(reason)), None))
    await _plan_reminders(ctx, item)


_UNSET: Any = object()


async def change_classification(ctx: LifecycleContext, item: Item, actor: Actor, *, topic_id: Any = _UNSET,
                                theme_id: Any = _UNSET, settlement_id: Any = _UNSET) -> None:
    """A change of topic, theme or settlement, recorded old → new (a routing-quality figure)."""
    for name, value in (("topic_id", topic_id), ("theme_id", theme_id), ("settlement_id", settlement_id)):
        if value is _UNSET or getattr(item, name) == value:
            continue
        record_event(ctx.session, item, "reclassified", actor, ctx.now, field=name.removesuffix("_id"),
                     old=getattr(item, name), new=value)
        setattr(item, name, value)


# --- the centre's own actions (from the admin) ------------------------------------------------------

# The resolution of an item merged into another; `Resolution` is a string column, so no migration.
DUPLICATE = "duplicate"
# The answer is still owed: its deadline may be set by hand or extended.
UNANSWERED = frozenset({S.registered, S.assigned, S.in_work, S.interim_answer, S.returned, S.reopened,
                        S.redirected})
# How staff may close an item; `auto` is the survey's own (no reply in a week).
STAFF_RESOLUTIONS = (Resolution.satisfied, Resolution.not_resolved, Resolution.postponed)


def _not_now(item: Item) -> TransitionError:
    return TransitionError(N_("Это действие уже невозможно: обращение № {number} сейчас в статусе «{status}»."),
                           number=item.number, status=Status(item.status))


def _utc_iso(dt: datetime | None) -> str | None:
    from datetime import UTC

    return None if dt is None else dt.astimezone(UTC).isoformat()


async def set_deadline(ctx: LifecycleContext, item: Item, staff: Staff, due: datetime, reason: str) -> None:
    """The centre sets the answer deadline by hand, with a reason; the reminders follow the new date
    (as after an extension), the officials learn it, and so does the citizen when it moves later."""
    reason = _require_text(reason, N_("причина"))
    if Status(item.status) not in UNANSWERED:
        raise _not_now(item)
    _require(due > ctx.now, N_("Новый срок должен быть позже текущего момента."))
    _require(due != item.due_answer_at, N_("Срок по № {number} уже такой."), number=item.number)
    old = item.due_answer_at
    item.due_answer_at = due
    record_event(ctx.session, item, "deadline", Actor.staff(staff.id), ctx.now, field="due_answer_at",
                 old=_utc_iso(old), new=_utc_iso(due), comment=f"by hand: {reason}")
    await _plan_reminders(ctx, item)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        _("Срок ответа по № {number} изменён МЦУ: {due}. Причина: {reason}").format(
            number=item.number, due=_local(ctx, due), reason=html.escape(reason)), None))
    if old is None or due > old:
        await tell_citizen(ctx, item, lambda _: (
            _("Срок ответа на ваше обращение № {number} — {due}.").format(
                number=item.number, due=_local(ctx, due)), None))


async def extend_by_centre(ctx: LifecycleContext, item: Item, staff: Staff, reason: str) -> None:
    """The centre extends the answer term itself (once, by the policy), whether or not the
    organisation asked; a pending request is settled by it."""
    reason = _require_text(reason, N_("причина продления"))
    if Status(item.status) not in UNANSWERED:
        raise _not_now(item)
    item.extension_requested_at = None
    await _grant_extension(ctx, item, Actor.staff(staff.id), reason)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        _("МЦУ продлил срок по № {number} до {due}: {reason}").format(
            number=item.number, due=_local(ctx, item.due_answer_at), reason=html.escape(reason)), None))


async def answer_on_behalf(ctx: LifecycleContext, item: Item, staff: Staff, text: str) -> ItemMessage:
    """A centre official writes the answer for the organisation. The history and the message name
    who wrote it; the assignee stays; the centre's own answer needs no review, so it goes to the
    citizen at once (and the survey is planned); the organisation is told."""
    text = _require_text(text, N_("ответ"))
    _require_working(item)
    actor = Actor.staff(staff.id)
    if item.status in (S.assigned, S.returned, S.reopened):
        transition(ctx.session, item, S.in_work, actor, ctx.now)
    if item.first_reaction_at is None:
        item.first_reaction_at = ctx.now
    transition(ctx.session, item, S.answered, actor, ctx.now)
    item.answered_at = ctx.now
    record_event(ctx.session, item, "answer_on_behalf", actor, ctx.now, field="organisation",
                 new=item.organisation_id)
    message = await _message(ctx, item, "answer", text, (), staff=staff)
    await _cancel_reminders(ctx, item)
    await deliver(ctx, item, message, actor)
    await tell_staff(ctx, await item_officials(ctx.session, item), item, lambda _: (
        _("МЦУ ответил заявителю по № {number} за вашу организацию ({name}). Текст ответа — в карточке.").format(
            number=item.number, name=html.escape(staff.name)), None), priority=OutboxPriority.reminder)
    return message


async def close_by_staff(ctx: LifecycleContext, item: Item, staff: Staff, resolution: str,
                         comment: str | None = None) -> None:
    """The centre closes a delivered or reopened item with a resolution; like the survey's own close,
    an item that was reopened is asked about once more later (`surveys.plan_repeat`)."""
    from core import surveys

    _require(resolution in {r.value for r in STAFF_RESOLUTIONS},
             N_("Выберите итог: решено, не решено или отложено."))
    await close(ctx, item, Actor.staff(staff.id), Resolution(resolution), (comment or "").strip() or None)
    await surveys.plan_repeat(ctx, item)


async def merge_duplicate(ctx: LifecycleContext, duplicate: Item, main: Item, staff: Staff,
                          note: str | None = None) -> None:
    """The same matter came twice: the duplicate is linked to the main item (as a repeat) and closed
    with a note; both histories say so; the duplicate's citizen learns the number to follow."""
    session = ctx.session
    note = (note or "").strip() or None
    _require(duplicate.id != main.id, N_("Обращение нельзя объединить с самим собой."))
    if Status(duplicate.status) in FINAL or duplicate.status == S.received:
        raise _not_now(duplicate)
    _require(main.status not in (S.received, S.withdrawn, S.rejected) and main.resolution != DUPLICATE,
             N_("№ {number} не может быть основным: оно не зарегистрировано, отозвано, отклонено или само "
                "закрыто как дубликат."), number=main.number)
    actor = Actor.staff(staff.id)
    old_main = None if duplicate.repeat_of_id is None else await session.scalar(
        select(Item.number).where(Item.id == duplicate.repeat_of_id))
    duplicate.repeat_of_id = main.id
    record_event(session, duplicate, "merged", actor, ctx.now, field="repeat_of", old=old_main, new=main.number,
                 comment=note)
    transition(session, duplicate, S.closed, actor, ctx.now, comment=note)
    duplicate.resolution = DUPLICATE
    duplicate.closed_at = ctx.now
    duplicate.extension_requested_at = None
    record_event(session, duplicate, "resolution", actor, ctx.now, field="resolution", new=DUPLICATE, comment=note)
    record_event(session, main, "merged_duplicate", actor, ctx.now, field="duplicate", new=duplicate.number,
                 comment=note)
    await _cancel_reminders(ctx, duplicate)
    await tell_citizen(ctx, duplicate, lambda _: (
        _("Ваше обращение № {number} объединено с обращением № {main} о том же. Ответ будет дан по № {main}.")
        .format(number=duplicate.number, main=main.number), None))
    if duplicate.organisation_id is not None:
        await tell_staff(ctx, await item_officials(session, duplicate), duplicate, lambda _: (
            _("№ {number} закрыто как дубликат № {main}; работу по нему можно прекратить.").format(
                number=duplicate.number, main=main.number), None), priority=OutboxPriority.reminder)


async def history(session: AsyncSession, item_id: int) -> list[ItemEvent]:
    return list((await session.scalars(
        select(ItemEvent).where(ItemEvent.item_id == item_id).order_by(ItemEvent.at, ItemEvent.id))).all())

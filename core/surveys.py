"""«Решена ли проблема?» — the satisfaction survey after the answer is delivered.

When the answer reaches the citizen the lifecycle calls `plan_survey`: a `Survey` row (status
``planned``) with the organisation and the official who wrote the answer, and a `Reminder` row of
kind ``survey`` at delivery + `survey_delay_minutes`, moved into office hours. The reminder tick
sends it to the citizen's Telegram (status ``sent``) — a citizen without Telegram gets none
(``skipped``) — and plans ``survey_expire`` seven days on.

The citizen's one tap records the answer (`answer_resolved`):
* «Да» closes the item as satisfied;
* «Частично» / «Нет» ask for the reason; the reason reopens the item (`give_reason`), and the
  lifecycle tells the organisation and the centre why;
* then a score of 1–5 (`give_score`) and an optional comment (`give_comment`).
No tap in seven days closes the item automatically (`Resolution.auto`, counted apart from the
satisfied); a «Нет» never explained closes it as not resolved.

A survey answers for one delivery of the answer: once the item is reopened or delivered anew, its
buttons are refused politely (`current`). After a reopened item is closed again, the citizen is
asked once more `survey_repeat_days` later (kind ``survey_repeat``; 0 turns it off).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from core.actors import SYSTEM, Actor
from core.cards import excerpt, keyboard
from core.reminders import Outbox, Recipient, insert_reminders
from db.models import (
    Citizen,
    Item,
    ItemEvent,
    OutboxPriority,
    Reminder,
    Resolution,
    Status,
    Survey,
)
from db.upsert import dialect_insert

if TYPE_CHECKING:
    from core.lifecycle import LifecycleContext

Gettext = Callable[[str], str]

SEND, REPEAT, EXPIRE = "survey", "survey_repeat", "survey_expire"
KINDS = frozenset({SEND, REPEAT, EXPIRE})
REPLY_WINDOW = timedelta(days=7)
RESOLVED = ("yes", "partly", "no")
UNRESOLVED = frozenset({"partly", "no"})
SCORES = range(1, 6)
TEXT_LIMIT = 4000
OPEN = ("planned", "sent", "skipped")


def survey_button(text: str, action: str, survey_id: int, value: str) -> dict[str, str]:
    """Exactly what `bot.callbacks.SurveyCb` packs: ``sv:<action>:<survey_id>:<value>``."""
    return {"text": text, "callback_data": f"sv:{action}:{survey_id}:{value}"}


def resolved_label(value: str, _: Gettext) -> str:
    return {"yes": _("Да"), "partly": _("Частично"), "no": _("Нет")}.get(value, value)


# --- planning ----------------------------------------------------------------------------------------


async def _author_of_answer(ctx: LifecycleContext, item: Item) -> int | None:
    from core.lifecycle import latest_answer

    message = await latest_answer(ctx.session, item)
    return None if message is None else message.author_staff_id


async def plan_survey(ctx: LifecycleContext, item: Item, *, repeat: bool = False) -> Survey:
    """Plan the survey of this delivery (or, with `repeat`, the later check after a reopening)."""
    session = ctx.session
    # A new delivery replaces a survey of the previous one that was never answered.
    await session.execute(update(Survey).where(Survey.item_id == item.id, Survey.status.in_(OPEN))
                          .values(status="expired").execution_options(synchronize_session="fetch"))
    wait = (timedelta(days=ctx.options.survey_repeat_days) if repeat
            else timedelta(minutes=ctx.options.survey_delay_minutes))
    send_at = ctx.deadlines.calendar.start_of_counting(ctx.now + wait)
    survey = Survey(item_id=item.id, citizen_id=item.citizen_id, organisation_id=item.organisation_id,
                    staff_id=await _author_of_answer(ctx, item), status="planned", send_at=send_at,
                    created_at=ctx.now)
    session.add(survey)
    await session.flush()
    row = {"item_id": item.id, "kind": REPEAT if repeat else SEND, "due_at": send_at, "status": "pending",
           "created_at": ctx.now, "data": {"survey_id": survey.id}}
    # Two deliveries before one office opening share the moment: the later survey takes the row.
    statement = dialect_insert(session)(Reminder).values(row)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["item_id", "kind", "due_at"],
        set_={"data": statement.excluded.data, "status": "pending", "claimed_at": None}))
    return survey


async def plan_repeat(ctx: LifecycleContext, item: Item) -> Survey | None:
    """After a reopened item is closed again: ask once more, later (option `survey_repeat_days`)."""
    if not ctx.options.survey_repeat_days:
        return None
    reopened_at = await ctx.session.scalar(
        select(func.max(ItemEvent.at)).where(ItemEvent.item_id == item.id, ItemEvent.action == "status",
                                             ItemEvent.new_value == Status.reopened.value))
    if reopened_at is None:
        return None
    planned = await ctx.session.scalar(
        select(Reminder.id).where(Reminder.item_id == item.id, Reminder.kind == REPEAT,
                                  Reminder.created_at >= reopened_at).limit(1))
    return None if planned is not None else await plan_survey(ctx, item, repeat=True)


def current(survey: Survey, item: Item) -> bool:
    """The survey still speaks for the item's answer: delivered (or since closed), not delivered anew."""
    asked = survey.sent_at or survey.send_at
    return (item.status in (Status.delivered, Status.closed)
            and (item.delivered_at is None or asked is None or item.delivered_at <= asked))


# --- the tick ----------------------------------------------------------------------------------------


def survey_message(item: Item, survey: Survey, repeat: bool) -> Callable[[Gettext], tuple[str, dict[str, Any] | None]]:
    def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
        if repeat:
            lines = [_("Некоторое время назад мы закрыли ваше обращение № {number}.").format(number=item.number)]
        else:
            lines = [_("Вам направлен ответ на обращение № {number}.").format(number=item.number)]
        if item.text:
            lines.append("«" + excerpt(item.text, 200) + "»")
        lines += ["", _("<b>Проблема решена?</b> Ответ — одно нажатие.") if repeat
                  else _("<b>Решена ли проблема?</b> Ответ — одно нажатие.")]
        buttons = [survey_button(resolved_label(v, _), "r", survey.id, v) for v in RESOLVED]
        return "\n".join(lines), keyboard([buttons])

    return build


async def process(ctx: LifecycleContext, row: Reminder, out: Outbox) -> bool:
    """A due survey row: send the survey, or close the item nobody answered for. False: nothing to do."""
    from core.lifecycle import load_item

    survey_id = (row.data or {}).get("survey_id")
    survey = None if survey_id is None else await ctx.session.get(Survey, survey_id)
    item = None if survey is None else await load_item(ctx.session, survey.item_id)
    if survey is None or item is None:
        return False
    if row.kind == EXPIRE:
        return await _expire(ctx, survey, item)
    return await _send(ctx, survey, item, out, repeat=row.kind == REPEAT)


async def _send(ctx: LifecycleContext, survey: Survey, item: Item, out: Outbox, *, repeat: bool) -> bool:
    if survey.status != "planned":
        return False
    if item.status != (Status.closed if repeat else Status.delivered):
        survey.status = "expired"  # reopened, or closed by staff before we asked
        return False
    citizen = None if survey.citizen_id is None else await ctx.session.get(Citizen, survey.citizen_id)
    if (citizen is not None and citizen.telegram_id is not None and citizen.erased_at is None
            and citizen.unreachable_since is None):
        out.add(Recipient(f"c{citizen.telegram_id}", citizen.language, chat_id=citizen.telegram_id),
                survey_message(item, survey, repeat), lambda _: _("Решена ли проблема?"), item_id=item.id,
                key=f"survey:{survey.id}", priority=OutboxPriority.reminder)
        survey.status, survey.sent_at = "sent", ctx.now
    else:
        survey.status = "skipped"  # nobody to ask; the item still closes by itself in a week
    await insert_reminders(ctx.session, [{"item_id": item.id, "kind": EXPIRE, "due_at": ctx.now + REPLY_WINDOW,
                                          "created_at": ctx.now, "data": {"survey_id": survey.id}}])
    return True


async def _expire(ctx: LifecycleContext, survey: Survey, item: Item) -> bool:
    from core.lifecycle import close

    live = item.status == Status.delivered and current(survey, item)
    if survey.status in ("sent", "skipped"):
        survey.status = "expired"
        if live:
            await close(ctx, item, SYSTEM, Resolution.auto, comment="no reply to the survey in 7 days")
            await plan_repeat(ctx, item)
        return True
    if survey.status == "answered" and survey.resolved in UNRESOLVED and survey.comment is None and live:
        await close(ctx, item, SYSTEM, Resolution.not_resolved, comment="the citizen did not say what is wrong")
        return True
    return False


# --- the citizen's answers -----------------------------------------------------------------------------


class Reply(StrEnum):
    recorded = "recorded"
    already = "already"  # the same question was answered before
    not_yours = "not_yours"
    stale = "stale"  # reopened, delivered anew or expired: the survey no longer applies
    unknown = "unknown"


@dataclass(frozen=True, slots=True)
class Answer:
    reply: Reply
    survey: Survey | None = None
    item: Item | None = None


async def _load(ctx: LifecycleContext, survey_id: int, citizen: Citizen) -> Answer:
    """The survey and its item, the item locked (one tap at a time), and whose it is."""
    from core.lifecycle import load_item

    found = await ctx.session.get(Survey, survey_id)
    if found is None:
        return Answer(Reply.unknown)
    item = await load_item(ctx.session, found.item_id)
    survey = await ctx.session.scalar(select(Survey).where(Survey.id == survey_id)
                                      .execution_options(populate_existing=True))
    if survey is None or item is None:
        return Answer(Reply.unknown)
    if survey.citizen_id != citizen.id:
        return Answer(Reply.not_yours, survey, item)
    return Answer(Reply.recorded, survey, item)


def _event(ctx: LifecycleContext, item: Item, citizen: Citizen, field: str, value: object) -> None:
    from core.lifecycle import record_event

    record_event(ctx.session, item, "survey", Actor.citizen(citizen.id), ctx.now, field=field, new=value)


async def answer_resolved(ctx: LifecycleContext, survey_id: int, citizen: Citizen, value: str) -> Answer:
    from core.lifecycle import close

    if value not in RESOLVED:
        return Answer(Reply.unknown)
    found = await _load(ctx, survey_id, citizen)
    survey, item = found.survey, found.item
    if found.reply is not Reply.recorded or survey is None or item is None:
        return found
    if survey.resolved is not None:
        return Answer(Reply.already, survey, item)
    if survey.status != "sent" or not current(survey, item):
        return Answer(Reply.stale, survey, item)
    survey.resolved, survey.status, survey.answered_at = value, "answered", ctx.now
    _event(ctx, item, citizen, "resolved", value)
    if value == "yes" and item.status == Status.delivered:
        await close(ctx, item, Actor.citizen(citizen.id), Resolution.satisfied)
        await plan_repeat(ctx, item)
    return Answer(Reply.recorded, survey, item)


async def give_reason(ctx: LifecycleContext, survey_id: int, citizen: Citizen, text: str) -> Answer:
    """What is still wrong: the item is reopened with these words."""
    from core.lifecycle import reopen

    text = (text or "").strip()[:TEXT_LIMIT]
    found = await _load(ctx, survey_id, citizen)
    survey, item = found.survey, found.item
    if found.reply is not Reply.recorded or survey is None or item is None:
        return found
    if survey.resolved not in UNRESOLVED or not text:
        return Answer(Reply.unknown, survey, item)
    if survey.comment is not None:
        return Answer(Reply.already, survey, item)
    if not current(survey, item):
        return Answer(Reply.stale, survey, item)
    survey.comment = text
    await reopen(ctx, item, Actor.citizen(citizen.id), text)
    return Answer(Reply.recorded, survey, item)


async def give_score(ctx: LifecycleContext, survey_id: int, citizen: Citizen, score: int) -> Answer:
    if score not in SCORES:
        return Answer(Reply.unknown)
    found = await _load(ctx, survey_id, citizen)
    survey, item = found.survey, found.item
    if found.reply is not Reply.recorded or survey is None or item is None:
        return found
    if survey.status != "answered":
        return Answer(Reply.stale, survey, item)
    if survey.score is not None:
        return Answer(Reply.already, survey, item)
    survey.score = score
    _event(ctx, item, citizen, "score", score)
    return Answer(Reply.recorded, survey, item)


async def give_comment(ctx: LifecycleContext, survey_id: int, citizen: Citizen, text: str) -> Answer:
    text = (text or "").strip()[:TEXT_LIMIT]
    found = await _load(ctx, survey_id, citizen)
    survey, item = found.survey, found.item
    if found.reply is not Reply.recorded or survey is None or item is None:
        return found
    if survey.status != "answered" or not text:
        return Answer(Reply.stale, survey, item)
    if survey.comment is not None:
        return Answer(Reply.already, survey, item)
    survey.comment = text
    return Answer(Reply.recorded, survey, item)


async def writable(ctx: LifecycleContext, survey_id: int, citizen: Citizen, what: str) -> Answer:
    """May the citizen still write the reason (after «Нет» / «Частично») or a comment?"""
    found = await _load(ctx, survey_id, citizen)
    survey, item = found.survey, found.item
    if found.reply is not Reply.recorded or survey is None or item is None:
        return found
    if survey.comment is not None:
        return Answer(Reply.already, survey, item)
    if what == "reason":
        if survey.resolved not in UNRESOLVED or not current(survey, item):
            return Answer(Reply.stale, survey, item)
    elif what != "comment" or survey.status != "answered":
        return Answer(Reply.stale, survey, item)
    return Answer(Reply.recorded, survey, item)

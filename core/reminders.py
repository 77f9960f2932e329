"""Reminders before the answer deadline and escalation after it (design.md rule 4).

The plan. When an organisation gets an item (or its deadline moves) the lifecycle calls
`plan_for_item`, which replaces the item's pending rows with the steps of the `reminder_plan`
option, each a `Reminder` row with its own `due_at`:

* ``half`` — half the answer term, counted in office time (a 30-day term across the May holidays
  and an 8-working-hour incident across a weekend both get a moment inside office hours);
* ``day_before`` — 09:00 of the working day before the deadline's day; the responsible officer of
  the channel is warned too;
* ``due_morning`` — 09:00 on the deadline's day when that is a working day;
* ``overdue_daily`` — first at the deadline (or the next office opening when the deadline falls
  at night or on a day off), then 09:00 of each working day: sending one plans the next, until the
  item is answered. It also tells the head and the curator, at most once per item per day.

Steps already in the past are left out, and two steps closer than an hour keep only the later.

The tick (scheduler/ticks.py) claims due rows with a conditional UPDATE that commits
(`claim_due`), then writes their outbox rows and marks them done in one transaction
(`process_claimed`). A process that dies in between leaves rows `claimed`; after `STALE_CLAIM`
another tick takes them again (`release_stale`). So a reminder may come late, never twice, and
is never lost: the outbox rows and the done mark commit together, and every message carries a
`dedupe_key` besides.

What a reminder says is decided when it is sent, from the item as it is then ("осталось 2 дн.",
"просрочено на 3 дн."), so a late reminder still tells the truth; several due at once for one item
make one message.
"""
from __future__ import annotations

import html
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.cards import item_button, keyboard, local
from core.i18n import gettext_for
from db.models import (
    Item,
    ItemEvent,
    Organisation,
    OutboxMessage,
    OutboxPriority,
    Reminder,
    Role,
    Staff,
    StaffRole,
    Status,
)
from db.upsert import dialect_insert

if TYPE_CHECKING:
    from core.calendar import WorkingCalendar
    from core.lifecycle import LifecycleContext
    from core.options import Options

log = logging.getLogger(__name__)
Gettext = Callable[[str], str]

STEPS = ("half", "day_before", "due_morning", "overdue_daily")
OVERDUE = "overdue_daily"
# Which of several rows due at once for one item speaks for them all.
URGENCY = {kind: rank for rank, kind in enumerate(STEPS)}
# The organisation still owes the answer in these statuses.
AWAITING_ANSWER = frozenset({Status.assigned, Status.in_work, Status.interim_answer, Status.returned,
                             Status.reopened, Status.redirected})
STALE_CLAIM = timedelta(minutes=2)
MIN_GAP = timedelta(hours=1)


class LostClaim(Exception):
    """Rows this tick claimed were taken over by another tick (this one was too slow): roll back."""


# --- time ------------------------------------------------------------------------------------------


def _at(calendar: WorkingCalendar, day: date, wall: time) -> datetime:
    return datetime.combine(day, wall, tzinfo=calendar.tz).astimezone(UTC)


def morning(calendar: WorkingCalendar, day: date) -> datetime:
    return _at(calendar, day, calendar.office_start)


def previous_working_day(calendar: WorkingCalendar, day: date) -> date:
    current = day - timedelta(days=1)
    for _ in range(366):
        if calendar.is_working_day(current):
            return current
        current -= timedelta(days=1)
    raise ValueError(f"no working day within a year before {day}")


def office_time_between(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    """Office time of working days between two moments."""
    total = timedelta(0)
    current = calendar.start_of_counting(start)
    while current < end:
        day = current.astimezone(calendar.tz).date()
        total += max(min(_at(calendar, day, calendar.office_end), end) - current, timedelta(0))
        current = morning(calendar, calendar.next_working_day(day))
    return total


def in_office_hours(calendar: WorkingCalendar, moment: datetime) -> bool:
    """Inside office hours of a working day; the closing minute itself counts (18:00 deadlines)."""
    wall = moment.astimezone(calendar.tz)
    return calendar.is_working_day(wall.date()) and calendar.office_start <= wall.time() <= calendar.office_end


def next_morning(calendar: WorkingCalendar, after: datetime) -> datetime:
    """The first office opening of a working day strictly after `after`."""
    day = after.astimezone(calendar.tz).date()
    if calendar.is_working_day(day) and after < morning(calendar, day):
        return morning(calendar, day)
    return morning(calendar, calendar.next_working_day(day))


def first_overdue(calendar: WorkingCalendar, due: datetime, now: datetime) -> datetime:
    if due <= now:  # planned when already late: from the next morning on
        return next_morning(calendar, now)
    return due if in_office_hours(calendar, due) else next_morning(calendar, due)


# --- the plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    kind: str
    due_at: datetime


def compute_plan(*, start: datetime, due: datetime, now: datetime, calendar: WorkingCalendar,
                 steps: Iterable[str] = STEPS) -> list[Step]:
    """The reminder steps of one answer term (see the module docstring); pure, for tests and the tick."""
    steps = set(steps)
    due_day = due.astimezone(calendar.tz).date()
    before: list[Step] = []
    if "half" in steps:
        work = office_time_between(calendar, start, due)
        if work > timedelta(0):
            before.append(Step("half", calendar.add_working_hours(start, work.total_seconds() / 7200)))
    if "day_before" in steps:
        before.append(Step("day_before", morning(calendar, previous_working_day(calendar, due_day))))
    if "due_morning" in steps and calendar.is_working_day(due_day):
        before.append(Step("due_morning", morning(calendar, due_day)))
    kept: list[Step] = []
    for step in sorted((s for s in before if now < s.due_at < due), key=lambda s: s.due_at, reverse=True):
        if kept and kept[-1].due_at - step.due_at < MIN_GAP:
            continue  # a later step is about to come anyway
        kept.append(step)
    if OVERDUE in steps:
        kept.append(Step(OVERDUE, first_overdue(calendar, due, now)))
    return sorted(kept, key=lambda s: s.due_at)


def awaits_answer(item: Item) -> bool:
    return Status(item.status) in AWAITING_ANSWER and item.due_answer_at is not None


def clock_running(item: Item) -> bool:
    """False while the item waits for the citizen with its clock stopped; a deadline already missed
    when the wait began stays missed (core/deadlines.py resume)."""
    return (item.paused_since is None or item.due_answer_at is None
            or item.due_answer_at <= item.paused_since)


async def term_start(session: AsyncSession, item: Item) -> datetime:
    """Where the current answer term began: the last redirect or reopening, else registration."""
    moved = await session.scalar(
        select(ItemEvent.at)
        .where(ItemEvent.item_id == item.id, ItemEvent.action == "deadline",
               ItemEvent.field == "due_answer_at", ItemEvent.comment.like("redirect:%"))
        .order_by(ItemEvent.id.desc()).limit(1))
    return moved or item.registered_at or item.received_at


async def insert_reminders(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, skipping any the (item, kind, due_at) key already has — sent ones included."""
    if rows:
        # The table, not the mapped class: a plain executemany, without the ORM's bulk bookkeeping.
        statement = dialect_insert(session)(Reminder.__table__).on_conflict_do_nothing(
            index_elements=["item_id", "kind", "due_at"])
        await session.execute(statement, [{"status": "pending", "data": None, **row} for row in rows])


async def plan_for_item(ctx: LifecycleContext, item: Item) -> None:
    """Replace the item's pending reminders with the plan for its current deadline."""
    session = ctx.session
    await session.execute(
        delete(Reminder)
        .where(Reminder.item_id == item.id, Reminder.kind.in_(STEPS), Reminder.status.in_(("pending", "cancelled")))
        .execution_options(synchronize_session=False))
    if not awaits_answer(item) or not clock_running(item):
        return  # nothing owed, or waiting for the citizen: resuming plans again
    assert item.due_answer_at is not None
    plan = compute_plan(start=await term_start(session, item), due=item.due_answer_at, now=ctx.now,
                        calendar=ctx.deadlines.calendar, steps=ctx.options.reminder_plan)
    await insert_reminders(session, [
        {"item_id": item.id, "kind": s.kind, "due_at": s.due_at, "created_at": ctx.now} for s in plan])


async def cancel_for_item(ctx: LifecycleContext, item: Item) -> None:
    await ctx.session.execute(
        update(Reminder)
        .where(Reminder.item_id == item.id, Reminder.kind.in_(STEPS), Reminder.status == "pending")
        .values(status="cancelled", done_at=ctx.now)
        .execution_options(synchronize_session=False))


# --- claiming ----------------------------------------------------------------------------------------


async def release_stale(session: AsyncSession, now: datetime) -> int:
    """Rows claimed by a tick that died are due again."""
    result = await session.execute(
        update(Reminder)
        # A claimed row was due when claimed: the due_at bound keeps this an index range (with
        # ANALYZE statistics SQLite would otherwise scan the table for the rare "claimed").
        .where(Reminder.status == "claimed", Reminder.due_at <= now, Reminder.claimed_at < now - STALE_CLAIM)
        .values(status="pending", claimed_at=None)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due rows, oldest first; two ticks never get the same row."""
    due = (select(Reminder.id).where(Reminder.status == "pending", Reminder.due_at <= now)
           .order_by(Reminder.due_at).limit(limit))
    if session.bind.dialect.name == "postgresql":
        # Locked until this transaction ends, so a parallel tick skips them. (Not as a subquery
        # of the UPDATE: PostgreSQL may run such a subquery again and exceed the limit.)
        due = due.with_for_update(skip_locked=True)
    candidates = list((await session.scalars(due)).all())
    if not candidates:
        return []
    # Conditional: on SQLite two ticks may read the same candidates; only one flips each row.
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id.in_(candidates), Reminder.status == "pending")
        .values(status="claimed", claimed_at=now)
        .returning(Reminder.id)
        .execution_options(synchronize_session=False))
    return sorted(result.scalars().all())


async def finish(session: AsyncSession, claim_time: datetime, now: datetime, done: Sequence[int],
                 cancelled: Sequence[int]) -> None:
    """Mark the rows; only if this tick still holds every one of them."""
    marked = 0
    for status, ids in (("done", done), ("cancelled", cancelled)):
        if ids:
            result = await session.execute(
                update(Reminder)
                .where(Reminder.id.in_(ids), Reminder.status == "claimed", Reminder.claimed_at == claim_time)
                .values(status=status, done_at=now)
                .execution_options(synchronize_session=False))
            marked += int(result.rowcount or 0)
    if marked != len(done) + len(cancelled):
        raise LostClaim(f"{len(done) + len(cancelled) - marked} reminder rows were taken over")


async def mark_failed(session: AsyncSession, reminder_id: int, now: datetime) -> None:
    """A row whose handling raised: kept out of the way (status `failed`) for staff to look at."""
    await session.execute(update(Reminder).where(Reminder.id == reminder_id, Reminder.status == "claimed")
                          .values(status="failed", done_at=now).execution_options(synchronize_session=False))


# --- who is told -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recipient:
    """A Telegram chat (private or group) or an e-mail address; `key` names it in dedupe keys."""

    key: str
    language: str | None = None
    chat_id: int | None = None
    email: str | None = None


def staff_recipient(person: Staff) -> Recipient | None:
    if person.telegram_id is not None:
        return Recipient(f"c{person.telegram_id}", person.language, chat_id=person.telegram_id)
    if person.email:
        return Recipient(f"s{person.id}", person.language, email=person.email)
    return None


def _unique(recipients: Iterable[Recipient | None]) -> list[Recipient]:
    """One message per chat or address, even when one person holds two roles."""
    seen: dict[tuple[int | None, str | None], Recipient] = {}
    for r in recipients:
        if r is not None:
            seen.setdefault((r.chat_id, r.email), r)
    return list(seen.values())


async def _holders(session: AsyncSession, role: Role) -> list[Staff]:
    return list((await session.scalars(
        select(Staff).join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(Staff.is_active.is_(True), StaffRole.role == role.value).order_by(Staff.id))).all())


class Audience:
    """Who gets what, looked up once per tick (a tick may touch thousands of items)."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self._officials: dict[int, list[Recipient]] = {}
        self._officers: dict[str, list[Recipient]] = {}
        self._centre: list[Recipient] | None = None

    async def officials(self, session: AsyncSession, organisation_id: int) -> list[Recipient]:
        """The organisation's officials; without any, the organisation's own e-mail."""
        if organisation_id not in self._officials:
            from core.routing import officials_of

            people = _unique(staff_recipient(p) for p in await officials_of(session, organisation_id))
            if not people:
                email = await session.scalar(select(Organisation.email).where(Organisation.id == organisation_id))
                if email:
                    people = [Recipient(f"o{organisation_id}", None, email=email)]
            self._officials[organisation_id] = people
        return self._officials[organisation_id]

    async def officers(self, session: AsyncSession, channel: str) -> list[Recipient]:
        if channel not in self._officers:
            from core.routing import triage_officers

            self._officers[channel] = _unique(staff_recipient(p) for p in await triage_officers(session, channel))
        return self._officers[channel]

    async def centre(self, session: AsyncSession) -> list[Recipient]:
        """The head's and the curator's chats; for one not set, the holders of that role in private."""
        if self._centre is None:
            found: list[Recipient | None] = []
            for chat_id, role in ((self.options.head_chat_id, Role.head), (self.options.curator_chat_id, Role.curator)):
                if chat_id is not None:
                    found.append(Recipient(f"c{chat_id}", None, chat_id=chat_id))
                else:
                    found += [staff_recipient(p) for p in await _holders(session, role)]
            self._centre = _unique(found)
        return self._centre


_TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


Build = Callable[[Gettext], tuple[str, dict[str, Any] | None]]


class Outbox:
    """Outbox rows of one transaction, written in one statement; a repeated dedupe key is skipped."""

    def __init__(self, session: AsyncSession, admin_url: str, now: datetime) -> None:
        self.session = session
        self.admin_url = admin_url
        self.now = now
        self.telegram: list[dict[str, Any]] = []
        self.email: list[tuple[str, str, str, int | None, str, int]] = []
        self._last: tuple[Build, Gettext, tuple[str, dict[str, Any] | None]] | None = None

    def add(self, to: Recipient, build: Build, subject: Callable[[Gettext], str], *, item_id: int | None,
            key: str, priority: int = OutboxPriority.reminder) -> None:
        _ = gettext_for(to.language)
        if self._last is not None and self._last[0] is build and self._last[1] is _:
            text, markup = self._last[2]  # the same message to the next official
        else:
            text, markup = build(_)
            self._last = (build, _, (text, markup))
        if to.chat_id is not None:
            payload: dict[str, Any] = {"text": text, "parse_mode": "HTML"}
            if markup is not None:
                payload["reply_markup"] = markup
            self.telegram.append({"transport": "telegram", "chat_id": to.chat_id, "method": "sendMessage",
                                  "payload": payload, "priority": priority, "item_id": item_id,
                                  "dedupe_key": key, "created_at": self.now})
        elif to.email:
            body = plain(text)
            if item_id is not None:
                body += "\n\n" + _("Карточка в системе МЦУ: {link}").format(link=f"{self.admin_url}/items/{item_id}")
            self.email.append((to.email, subject(_), body, item_id, key, priority))

    async def flush(self) -> int:
        from core import outbox

        if self.telegram:
            statement = dialect_insert(self.session)(OutboxMessage.__table__).on_conflict_do_nothing(
                index_elements=["dedupe_key"])
            await self.session.execute(statement, self.telegram)
        if self.email:
            keys = [e[4] for e in self.email]
            sent = set((await self.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys)))).all())
            for address, subject, body, item_id, key, priority in self.email:
                if key not in sent:
                    outbox.enqueue_email(self.session, address, subject, body, priority=priority, item_id=item_id,
                                         dedupe_key=key)
                    sent.add(key)
        count = len(self.telegram) + len(self.email)
        self.telegram, self.email = [], []
        return count


# --- what is said ------------------------------------------------------------------------------------


def overdue_phrase(due: datetime, now: datetime, calendar: WorkingCalendar, _: Gettext) -> str:
    days = (calendar.local_date(now) - calendar.local_date(due)).days
    if days >= 1:
        return _("просрочено на {days} дн.").format(days=days)
    hours = int((now - due).total_seconds() // 3600)
    return _("просрочено на {hours} ч.").format(hours=hours) if hours else _("просрочено")


def left_phrase(due: datetime, now: datetime, _: Gettext) -> str:
    left = due - now
    if left.days >= 1:
        return _("осталось {days} дн.").format(days=left.days)
    return _("осталось {hours} ч.").format(hours=max(1, left.seconds // 3600))


def _card_button(item_id: int, _: Gettext) -> dict[str, Any] | None:
    return keyboard([[item_button(_("Открыть карточку"), "card", item_id)]])


def official_message(item: Item, org: str, now: datetime, calendar: WorkingCalendar) -> Build:
    due = item.due_answer_at
    assert due is not None

    def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
        if due <= now:
            lines = [_("❗ <b>Просрочен ответ по № {number}</b>").format(number=item.number),
                     _("Срок был {due}, {overdue}.").format(due=local(due, calendar.tz),
                                                            overdue=overdue_phrase(due, now, calendar, _))]
        elif calendar.local_date(due) == calendar.local_date(now):
            lines = [_("⏰ <b>Сегодня срок ответа по № {number}</b>").format(number=item.number),
                     _("Ответ нужен до {time} ({left}).").format(
                         time=due.astimezone(calendar.tz).strftime("%H:%M"), left=left_phrase(due, now, _))]
        else:
            lines = [_("⏰ <b>Напоминание о сроке по № {number}</b>").format(number=item.number),
                     _("Ответ нужен до {due} ({left}).").format(due=local(due, calendar.tz),
                                                               left=left_phrase(due, now, _))]
        lines.append(_("Исполнитель: {org}").format(org=html.escape(org)))
        return "\n".join(lines), _card_button(item.id, _)

    return build


def officer_message(item: Item, org: str, now: datetime, calendar: WorkingCalendar) -> Build:
    due = item.due_answer_at
    assert due is not None

    def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
        return "\n".join([
            _("⚠️ <b>Контроль срока по № {number}</b>").format(number=item.number),
            _("Ответ исполнителя нужен до {due} ({left}), его пока нет.").format(
                due=local(due, calendar.tz), left=left_phrase(due, now, _)),
            _("Исполнитель: {org}").format(org=html.escape(org)),
        ]), _card_button(item.id, _)

    return build


def escalation_message(item: Item, org: str, now: datetime, calendar: WorkingCalendar) -> Build:
    due = item.due_answer_at
    assert due is not None

    def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
        return "\n".join([
            _("❗ <b>Просрочено: № {number}</b>").format(number=item.number),
            _("Исполнитель: {org}").format(org=html.escape(org)),
            _("Срок был {due}, {overdue}.").format(due=local(due, calendar.tz),
                                                   overdue=overdue_phrase(due, now, calendar, _)),
        ]), _card_button(item.id, _)

    return build


def _subject(item: Item) -> Callable[[Gettext], str]:
    return lambda _: _("МЦУ: срок ответа по № {number}").format(number=item.number)


# --- sending -----------------------------------------------------------------------------------------


@dataclass
class Outcome:
    done: list[int]
    cancelled: list[int]


async def send_deadline_reminders(ctx: LifecycleContext, rows: Sequence[Reminder], audience: Audience,
                                  out: Outbox) -> Outcome:
    """One message per item for its due rows; escalation and the next overdue row where due."""
    session, now, calendar = ctx.session, ctx.now, ctx.deadlines.calendar
    outcome = Outcome([], [])
    by_item: dict[int, list[Reminder]] = defaultdict(list)
    for row in rows:
        if row.item_id is None:
            outcome.cancelled.append(row.id)
        else:
            by_item[row.item_id].append(row)
    items = {i.id: i for i in (await session.scalars(select(Item).where(Item.id.in_(list(by_item))))).all()}
    org_ids = {i.organisation_id for i in items.values() if i.organisation_id is not None}
    orgs = dict((await session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)))).all())
    today = calendar.local_date(now).isoformat()
    following: list[dict[str, Any]] = []
    for item_id, group in by_item.items():
        item = items.get(item_id)
        ids = [r.id for r in group]
        if item is None or item.organisation_id is None or not awaits_answer(item) or not clock_running(item):
            outcome.cancelled += ids  # answered, closed, or waiting for the citizen
            continue
        due = item.due_answer_at
        assert due is not None
        overdue = due <= now
        if not overdue:  # an overdue row of a deadline moved since: nothing to say yet
            outcome.cancelled += [r.id for r in group if r.kind == OVERDUE]
            group = [r for r in group if r.kind != OVERDUE]
            if not group:
                continue
        org = orgs.get(item.organisation_id, "—")
        main = max(group, key=lambda r: (URGENCY.get(r.kind, -1), r.due_at))
        base = f"ovd:{item.id}:{today}" if overdue else f"rem:{main.id}"
        message = official_message(item, org, now, calendar)
        officials = await audience.officials(session, item.organisation_id)
        for to in officials:
            out.add(to, message, _subject(item), item_id=item.id, key=f"{base}:{to.key}")
        told = {(to.chat_id, to.email) for to in officials}
        warn = next((r for r in group if r.kind == "day_before"), None)
        if warn is not None and not overdue:
            for to in await audience.officers(session, item.channel):
                if (to.chat_id, to.email) in told:
                    continue
                out.add(to, officer_message(item, org, now, calendar), _subject(item), item_id=item.id,
                        key=f"rem:{warn.id}:{to.key}")
        if overdue and any(r.kind == OVERDUE for r in group):
            for to in await audience.centre(session):
                if (to.chat_id, to.email) in told:
                    continue  # a head who is also the official has just been told
                out.add(to, escalation_message(item, org, now, calendar), _subject(item), item_id=item.id,
                        key=f"esc:{item.id}:{today}:{to.key}", priority=OutboxPriority.alert)
            if OVERDUE in ctx.options.reminder_plan:
                after = max(now, max(r.due_at for r in group if r.kind == OVERDUE))
                following.append({"item_id": item.id, "kind": OVERDUE, "due_at": next_morning(calendar, after),
                                  "created_at": now})
        outcome.done += ids
    await insert_reminders(session, following)
    return outcome


async def process_claimed(ctx: LifecycleContext, ids: Sequence[int], claim_time: datetime,
                          audience: Audience) -> Outcome:
    """Everything the claimed rows ask for, in the caller's transaction; then mark them."""
    from core import digest, surveys

    rows = list((await ctx.session.scalars(select(Reminder).where(Reminder.id.in_(list(ids)))
                                            .order_by(Reminder.due_at, Reminder.id))).all())
    out = Outbox(ctx.session, ctx.admin_url, ctx.now)
    outcome = Outcome([], [])
    deadline_rows = [r for r in rows if r.kind in STEPS]
    if deadline_rows:
        result = await send_deadline_reminders(ctx, deadline_rows, audience, out)
        outcome.done += result.done
        outcome.cancelled += result.cancelled
    for row in rows:
        if row.kind == digest.KIND:
            await digest.send(ctx, row, audience, out)
            outcome.done.append(row.id)
        elif row.kind in surveys.KINDS:
            from core.lifecycle import TransitionError

            try:
                async with ctx.session.begin_nested():  # a refused close must not undo the batch
                    acted = await surveys.process(ctx, row, out)
            except TransitionError as err:
                log.info("survey row %s: %s", row.id, err.message)
                acted = False
            (outcome.done if acted else outcome.cancelled).append(row.id)
        elif row.kind not in STEPS:
            log.warning("reminder %s: unknown kind %r, cancelled", row.id, row.kind)
            outcome.cancelled.append(row.id)
    await out.flush()
    await finish(ctx.session, claim_time, ctx.now, outcome.done, outcome.cancelled)
    return outcome

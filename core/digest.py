"""The morning digest for the head and the curator: what is overdue and what is due today.

One message on each working day at the `digest_time` option (district time), grouped by
organisation, overdue first; long lists are cut ("и ещё N"). Nothing to report — no message.

The digest is a `Reminder` row of kind ``digest`` (no item), claimed like any other, so a restart
neither loses nor doubles it; sending one plans the next. `ensure_planned` (every tick) creates the
first row and follows a change of the option. The message's dedupe key holds the day, so even two
rows for one day give one message.
"""
from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.reminders import AWAITING_ANSWER, Audience, Outbox, insert_reminders
from db.models import Item, Organisation, OutboxPriority, Reminder, Status

if TYPE_CHECKING:
    from core.calendar import WorkingCalendar
    from core.lifecycle import LifecycleContext
    from core.options import Options

KIND = "digest"
# Items still owed an answer; `registered` ones wait for the centre itself to route them.
IN_DIGEST = AWAITING_ANSWER | {Status.registered}
ORGS_SHOWN = 8
NUMBERS_SHOWN = 5
NAME_LIMIT = 60
TEXT_LIMIT = 3900  # Telegram takes 4096 characters
Gettext = Callable[[str], str]


def _moment(calendar: WorkingCalendar, day: date, hhmm: str) -> datetime:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=calendar.tz).astimezone(UTC)


def upcoming(calendar: WorkingCalendar, now: datetime, hhmm: str) -> datetime:
    """Today's digest moment if today is a working day and it is still ahead, else the next one."""
    today = calendar.local_date(now)
    if calendar.is_working_day(today) and now < _moment(calendar, today, hhmm):
        return _moment(calendar, today, hhmm)
    return _moment(calendar, calendar.next_working_day(today), hhmm)


async def ensure_planned(session: AsyncSession, now: datetime, calendar: WorkingCalendar,
                         options: Options) -> None:
    rows = list((await session.scalars(
        select(Reminder).where(Reminder.item_id.is_(None), Reminder.kind == KIND,
                               Reminder.status.in_(("pending", "claimed"))).order_by(Reminder.id))).all())
    if not rows:
        await insert_reminders(session, [{"item_id": None, "kind": KIND, "created_at": now,
                                          "due_at": upcoming(calendar, now, options.digest_time)}])
        return
    for extra in rows[1:]:
        if extra.status == "pending":  # two schedulers once raced to plan it
            await session.delete(extra)
    row = rows[0]
    if row.status == "pending":  # the option changed: same day, the new time
        wanted = _moment(calendar, calendar.local_date(row.due_at), options.digest_time)
        if row.due_at != wanted:
            row.due_at = wanted


@dataclass
class Section:
    total: int = 0
    by_org: dict[int | None, int] = field(default_factory=dict)
    numbers: dict[int | None, list[tuple[str, datetime]]] = field(default_factory=lambda: defaultdict(list))


async def collect(session: AsyncSession, now: datetime, calendar: WorkingCalendar) -> tuple[Section, Section]:
    """(overdue, due later today): counts per organisation and the first numbers of each."""
    end_of_day = datetime.combine(calendar.local_date(now) + timedelta(days=1), time(0),
                                  tzinfo=calendar.tz).astimezone(UTC)
    overdue = case((Item.due_answer_at <= now, 1), else_=0)
    scope = and_(Item.status.in_([s.value for s in IN_DIGEST]), Item.due_answer_at < end_of_day,
                 # waiting for the citizen with the clock stopped is not late, unless it was already
                 or_(Item.paused_since.is_(None), Item.due_answer_at <= Item.paused_since))
    sections = (Section(), Section())
    for org_id, late, count in await session.execute(
            select(Item.organisation_id, overdue, func.count()).where(scope)
            .group_by(Item.organisation_id, overdue)):
        section = sections[0 if late else 1]
        section.by_org[org_id] = int(count)
        section.total += int(count)
    if not sections[0].total and not sections[1].total:
        return sections
    ranked = (select(Item.id, Item.number, Item.organisation_id, Item.due_answer_at, overdue.label("late"),
                     func.row_number().over(partition_by=(Item.organisation_id, overdue),
                                            order_by=(Item.due_answer_at, Item.id)).label("n"))
              .where(scope).subquery())
    for _id, number, org_id, due, late, _n in await session.execute(
            select(ranked).where(ranked.c.n <= NUMBERS_SHOWN).order_by(ranked.c.due_answer_at, ranked.c.id)):
        sections[0 if late else 1].numbers[org_id].append((number, due))
    return sections


def _late(due: datetime, now: datetime, calendar: WorkingCalendar, _: Gettext) -> str:
    days = (calendar.local_date(now) - calendar.local_date(due)).days
    if days >= 1:
        return _("{days} дн.").format(days=days)
    return _("{hours} ч.").format(hours=max(1, int((now - due).total_seconds() // 3600)))


def render(overdue: Section, today: Section, names: dict[int, str], now: datetime, calendar: WorkingCalendar,
           _: Gettext) -> str:
    lines = [_("📋 <b>Сводка МЦУ на {date}</b>").format(date=calendar.local_date(now).strftime("%d.%m.%Y"))]
    for title, section, late in ((_("Просрочено"), overdue, True), (_("Срок сегодня"), today, False)):
        if not section.total:
            continue
        lines += ["", f"<b>{title}: {section.total}</b>"]
        orgs = sorted(section.by_org.items(), key=lambda kv: (-kv[1], names.get(kv[0] or 0, "")))
        for org_id, count in orgs[:ORGS_SHOWN]:
            name = names.get(org_id) if org_id is not None else None
            name = name or _("не направлено исполнителю")
            if len(name) > NAME_LIMIT:
                name = name[:NAME_LIMIT - 1].rstrip() + "…"
            name = html.escape(name)
            shown = section.numbers.get(org_id, [])
            parts = []
            for number, due in shown:
                when = (_late(due, now, calendar, _) if late
                        else _("до {time}").format(time=due.astimezone(calendar.tz).strftime("%H:%M")))
                parts.append(f"№ {number} ({when})")
            if count > len(shown):
                parts.append(_("и ещё {count}").format(count=count - len(shown)))
            lines.append(f"<i>{name}</i> ({count}): " + ", ".join(parts))
        rest = orgs[ORGS_SHOWN:]
        if rest:
            lines.append(_("и ещё {count} в других организациях ({orgs})").format(
                count=sum(c for _o, c in rest), orgs=len(rest)))
    text = "\n".join(lines)
    if len(text) > TEXT_LIMIT:
        text = text[:TEXT_LIMIT].rsplit("\n", 1)[0] + "\n…"
    return text


async def send(ctx: LifecycleContext, row: Reminder, audience: Audience, out: Outbox) -> None:
    session, now, calendar = ctx.session, ctx.now, ctx.deadlines.calendar
    today = calendar.local_date(now)
    if calendar.is_working_day(today):  # a late row found on a day off waits for the next digest
        overdue, due_today = await collect(session, now, calendar)
        if overdue.total or due_today.total:
            org_ids = [o for o in {*overdue.by_org, *due_today.by_org} if o is not None]
            names = dict((await session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(org_ids)))).all())

            def build(_: Gettext) -> tuple[str, dict[str, Any] | None]:
                return render(overdue, due_today, names, now, calendar, _), None

            for to in await audience.centre(session):
                out.add(to, build, lambda _: _("МЦУ: сводка на {date}").format(date=today.strftime("%d.%m.%Y")),
                        item_id=None, key=f"digest:{today.isoformat()}:{to.key}", priority=OutboxPriority.reminder)
    nxt = _moment(calendar, calendar.next_working_day(today), ctx.options.digest_time)
    await insert_reminders(session, [{"item_id": None, "kind": KIND, "due_at": nxt, "created_at": now}])

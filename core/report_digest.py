"""The weekly and the monthly report, sent by themselves: the summary, the album of charts and the
spreadsheet, through the outbox.

* weekly — the last 7 days, on `weekly_digest_day` at `weekly_digest_time` (district time, Monday
  09:00 by default), to the head's and the curator's chats (`head_chat_id`, `curator_chat_id`; for
  one not set, the holders of the role in private — as the morning digest, `core.digest`);
* monthly — the previous calendar month, on `monthly_digest_day` at `monthly_digest_time` (the
  1st at 09:00), to the curator's chat.

Each is a `Reminder` row (no item) planned ahead and claimed by the reminder tick, so a restart
neither loses nor doubles it. Unlike the item reminders, building a report takes seconds, and
must not happen inside the tick's transaction (on SQLite that would hold the application's one
connection). So these rows keep statuses of their own — ``planned`` → ``building`` → ``done``
(or ``failed``) — which the item reminders' claim never takes: `run_due` claims them in one short
transaction, computes and draws off the event loop (`core.report_output`), writes the files under
`<data_dir>/outbox-files/`, then writes the outbox rows, marks the row done and plans the next one
in a second short transaction. A tick that dies in between leaves the row ``building``; after
`STALE_BUILD` another tick builds it again. Every outbox row's dedupe key holds the period and the
chat, so even then nothing is sent twice. A late row still reports its own period (the week or
the month before its due date); the next one is planned from now, so weeks missed while the
centre was down are not sent in a burst.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import outbox
from core.i18n import gettext_for
from core.options import Options, load_options
from core.reminders import Audience, Recipient, insert_reminders, staff_recipient
from core.report_model import Period, Scope
from db.models import OutboxMessage, Reminder, Role, Staff, StaffRole

log = logging.getLogger(__name__)
Gettext = Callable[[str], str]

WEEKLY, MONTHLY = "report_weekly", "report_monthly"
KINDS = (WEEKLY, MONTHLY)
PLANNED, BUILDING, DONE, FAILED = "planned", "building", "done", "failed"
# Building a big district's month takes seconds to a minute; a claim this old belongs to a dead tick.
STALE_BUILD = timedelta(minutes=15)


def N_(message: str) -> str:
    """Marks a text for the catalogs; it is translated when shown."""
    return message


HEADINGS = {WEEKLY: N_("🗓 <b>Еженедельный отчёт МЦУ</b>"), MONTHLY: N_("🗓 <b>Ежемесячный отчёт МЦУ</b>")}
SUBJECTS = {WEEKLY: N_("МЦУ: еженедельный отчёт за {period}"), MONTHLY: N_("МЦУ: ежемесячный отчёт за {period}")}


# --- when --------------------------------------------------------------------------------------------------


def _at(day: date, hhmm: str, tz: ZoneInfo) -> datetime:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz).astimezone(UTC)


def upcoming(kind: str, options: Options, tz: ZoneInfo, after: datetime) -> datetime:
    """The first moment of this digest strictly after `after`."""
    local = after.astimezone(tz).date()
    if kind == WEEKLY:
        day = local + timedelta(days=(options.weekly_digest_day - local.isoweekday()) % 7)
        moment = _at(day, options.weekly_digest_time, tz)
        return moment if moment > after else _at(day + timedelta(days=7), options.weekly_digest_time, tz)
    day = local.replace(day=options.monthly_digest_day)
    moment = _at(day, options.monthly_digest_time, tz)
    if moment > after:
        return moment
    following = (local.replace(day=1) + timedelta(days=32)).replace(day=options.monthly_digest_day)
    return _at(following, options.monthly_digest_time, tz)


def period_of(kind: str, due_at: datetime, tz: ZoneInfo) -> Period:
    """The week (7 days) or the calendar month before the day the digest is due."""
    day = due_at.astimezone(tz).date()
    if kind == WEEKLY:
        return Period(day - timedelta(days=7), day - timedelta(days=1), tz)
    end = day.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end, tz)


async def ensure_planned(session: AsyncSession, now: datetime, options: Options, tz: ZoneInfo) -> None:
    """Every tick: one planned row of each digest, following a change of its options."""
    for kind in KINDS:
        rows = list((await session.scalars(
            select(Reminder).where(Reminder.item_id.is_(None), Reminder.kind == kind,
                                   Reminder.status.in_((PLANNED, BUILDING))).order_by(Reminder.id))).all())
        if not rows:
            await insert_reminders(session, [{"item_id": None, "kind": kind, "status": PLANNED, "created_at": now,
                                              "due_at": upcoming(kind, options, tz, now)}])
            continue
        for extra in rows[1:]:
            if extra.status == PLANNED:  # two schedulers once raced to plan it
                await session.delete(extra)
        row = rows[0]
        if row.status == PLANNED and row.due_at > now:  # not due yet: the options may have moved it
            wanted = upcoming(kind, options, tz, now)
            if row.due_at != wanted:
                row.due_at = wanted


# --- claiming ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    kind: str
    due_at: datetime


async def claim(sessionmaker: async_sessionmaker[AsyncSession], now: datetime) -> list[Claimed]:
    """Take the due digests (a conditional UPDATE: two ticks never take the same row)."""
    async with sessionmaker() as session, session.begin():
        await session.execute(
            update(Reminder)
            .where(Reminder.kind.in_(KINDS), Reminder.status == BUILDING, Reminder.claimed_at < now - STALE_BUILD)
            .values(status=PLANNED, claimed_at=None)
            .execution_options(synchronize_session=False))
        result = await session.execute(
            update(Reminder)
            .where(Reminder.kind.in_(KINDS), Reminder.status == PLANNED, Reminder.due_at <= now)
            .values(status=BUILDING, claimed_at=now)
            .returning(Reminder.id, Reminder.kind, Reminder.due_at)
            .execution_options(synchronize_session=False))
        return sorted((Claimed(*row) for row in result.all()), key=lambda c: (c.due_at, c.id))


class LostClaim(Exception):
    """Another tick took the row over (this one was slower than STALE_BUILD): its work stands."""


async def _finish(session: AsyncSession, row: Claimed, claimed_at: datetime, status: str, now: datetime,
                  options: Options, tz: ZoneInfo) -> None:
    """Mark the row and plan the next one, if this tick still holds it."""
    result = await session.execute(
        update(Reminder)
        .where(Reminder.id == row.id, Reminder.status == BUILDING, Reminder.claimed_at == claimed_at)
        .values(status=status, done_at=now)
        .execution_options(synchronize_session=False))
    if not result.rowcount:
        raise LostClaim(f"report digest {row.id} was taken over")
    await insert_reminders(session, [{"item_id": None, "kind": row.kind, "status": PLANNED, "created_at": now,
                                      "due_at": upcoming(row.kind, options, tz, max(now, row.due_at))}])


# --- who ---------------------------------------------------------------------------------------------------


async def _curators(session: AsyncSession, options: Options) -> list[Recipient]:
    if options.curator_chat_id is not None:
        return [Recipient(f"c{options.curator_chat_id}", None, chat_id=options.curator_chat_id)]
    people = (await session.scalars(
        select(Staff).join(StaffRole, StaffRole.staff_id == Staff.id)
        .where(Staff.is_active.is_(True), StaffRole.role == Role.curator.value).order_by(Staff.id))).all()
    found: dict[tuple[int | None, str | None], Recipient] = {}
    for person in people:
        to = staff_recipient(person)
        if to is not None:
            found.setdefault((to.chat_id, to.email), to)
    return list(found.values())


async def recipients(session: AsyncSession, kind: str, options: Options) -> list[Recipient]:
    if kind == WEEKLY:
        return await Audience(options).centre(session)
    return await _curators(session, options)


# --- sending -----------------------------------------------------------------------------------------------


@dataclass
class Parts:
    """What one recipient still needs; rows already in the outbox (an earlier try) are skipped."""

    to: Recipient
    keys: dict[str, str]  # part → dedupe key, for the parts still to write


def _key(kind: str, period: Period, to: Recipient, part: str) -> str:
    return f"report:{kind.removeprefix('report_')}:{period.start.isoformat()}:{to.key}:{part}"


async def _missing(session: AsyncSession, kind: str, period: Period, people: list[Recipient]) -> list[Parts]:
    wanted = {}
    for to in people:
        parts = ("text", "album", "file") if to.chat_id is not None else ("mail",)
        wanted[to.key] = Parts(to, {part: _key(kind, period, to, part) for part in parts})
    every = [key for p in wanted.values() for key in p.keys.values()]
    sent = set((await session.scalars(select(OutboxMessage.dedupe_key)
                                      .where(OutboxMessage.dedupe_key.in_(every)))).all())
    result = []
    for parts in wanted.values():
        parts.keys = {part: key for part, key in parts.keys.items() if key not in sent}
        if parts.keys:
            result.append(parts)
    return result


async def deliver(sessionmaker: async_sessionmaker[AsyncSession], report_maker: async_sessionmaker[AsyncSession],
                  data_dir: Path, tz: ZoneInfo, row: Claimed, now: datetime) -> int:
    """Build the digest of a claimed row and queue it; returns the outbox rows written."""
    from core.report_output import produce
    from core.report_text import (
        album_caption,
        document_caption,
        period_text,
        summary_html,
        summary_lines,
    )

    period = period_of(row.kind, row.due_at, tz)
    async with sessionmaker() as session:
        options = await load_options(session)
        todo = await _missing(session, row.kind, period, await recipients(session, row.kind, options))
    files: list[Path] = []
    rows: list[tuple[Parts, str, dict[str, Any]]] = []  # (recipient, part, what to enqueue)
    try:
        by_language: dict[str | None, list[Parts]] = {}
        for parts in todo:
            by_language.setdefault(parts.to.language, []).append(parts)
        for language, group in by_language.items():
            _ = gettext_for(language)
            output = await produce(report_maker, period, Scope(), now=now, _=_)
            report = output.report
            heading = _(HEADINGS[row.kind])
            for parts in group:
                if "mail" in parts.keys:
                    subject = _(SUBJECTS[row.kind]).format(period=period_text(period))
                    body = "\n".join(summary_lines(report, _, heading=heading))
                    rows.append((parts, "mail", {"subject": subject, "text": body}))
                    continue
                if "text" in parts.keys:
                    rows.append((parts, "text", {"text": summary_html(report, _, heading=heading)}))
                if "album" in parts.keys:
                    media = []
                    for n, (name, png) in enumerate(output.charts):
                        stored = outbox.store_file(data_dir, png, name)
                        files.append(Path(stored["path"]))
                        part: dict[str, Any] = {"type": "photo", **stored}
                        if n == 0:
                            part["caption"] = album_caption(report, _)
                        media.append(part)
                    rows.append((parts, "album", {"media": media}))
                if "file" in parts.keys:
                    assert output.xlsx is not None
                    stored = outbox.store_file(data_dir, output.xlsx, output.xlsx_name)
                    files.append(Path(stored["path"]))
                    rows.append((parts, "file", {"document": stored, "caption": document_caption(report, _)}))
        async with sessionmaker() as session, session.begin():
            for parts, part, what in rows:
                key, to = parts.keys[part], parts.to
                if part == "mail":
                    assert to.email is not None
                    outbox.enqueue_email(session, to.email, what["subject"], what["text"], dedupe_key=key, now=now)
                elif part == "text":
                    assert to.chat_id is not None
                    outbox.enqueue_message(session, to.chat_id, what["text"], dedupe_key=key, now=now)
                elif part == "album":
                    assert to.chat_id is not None
                    outbox.enqueue_album(session, to.chat_id, what["media"], dedupe_key=key, now=now)
                else:
                    assert to.chat_id is not None
                    outbox.enqueue_document(session, to.chat_id, what["document"], caption=what["caption"],
                                            dedupe_key=key, now=now)
            await _finish(session, row, now, DONE, now, options, tz)
    except BaseException:
        for path in files:  # no row will ever name them
            path.unlink(missing_ok=True)
        raise
    return len(rows)


async def give_up(sessionmaker: async_sessionmaker[AsyncSession], tz: ZoneInfo, row: Claimed,
                  now: datetime) -> None:
    """A digest that failed to build: set aside as failed, the next one planned."""
    async with sessionmaker() as session, session.begin():
        options = await load_options(session)
        try:
            await _finish(session, row, now, FAILED, now, options, tz)
        except LostClaim:
            pass


async def run_due(sessionmaker: async_sessionmaker[AsyncSession], settings_tz: ZoneInfo, data_dir: Path,
                  now: datetime, report_maker: async_sessionmaker[AsyncSession]) -> int:
    """Claim and send the due digests; returns how many were sent."""
    sent = 0
    for row in await claim(sessionmaker, now):
        try:
            await deliver(sessionmaker, report_maker, data_dir, settings_tz, row, now)
            sent += 1
        except LostClaim:
            log.warning("report digest %s was taken over by another tick", row.id)
        except Exception:
            log.exception("report digest %s (%s) failed; set aside, the next one planned", row.id, row.kind)
            await give_up(sessionmaker, settings_tz, row, now)
    return sent


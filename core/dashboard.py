"""The figures of the admin's front page, scoped by `item_list.visible` like everything else.

Every figure is a count over an index (status + due date, received date, the surveys' answer
date), so the page stays fast over millions of items: open items are few, and "today" and "the
last 30 days" are narrow ranges. Times of day are the district's (settings.tz).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.item_list import (
    STATUS_GROUPS,
    custom_plans,
    own_organisation,
    plain,
    sees_everything,
    visible,
)
from core.lifecycle import UNANSWERED
from db.models import Item, Staff, Status, Survey, Topic

SATISFACTION_DAYS = 30
RECENT_DAYS = 30
S = Status
# Given to an organisation and not yet answered; an answer waiting for the centre's review.
IN_WORK = STATUS_GROUPS["working"]
REVIEW = STATUS_GROUPS["review"]
OPEN_ORDER = (S.registered, S.assigned, S.in_work, S.interim_answer, S.returned, S.reopened, S.redirected,
              S.answered, S.under_review, S.delivered)


@dataclass(frozen=True, slots=True)
class Dashboard:
    new_today: int
    waiting: int  # registered, waiting to be routed
    in_work: int
    review: int
    due_today: int
    overdue: int
    surveys_answered: int
    satisfied: int
    average_score: float | None
    by_status: list[tuple[str, int]]  # open items, in the order of their way
    by_topic: list[tuple[str | None, str | None, int]]  # received in the last RECENT_DAYS: ru, en, count
    by_day: list[tuple[date, int]]  # received per local day, the last RECENT_DAYS days

    @property
    def satisfied_share(self) -> float | None:
        return None if not self.surveys_answered else self.satisfied / self.surveys_answered


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz).astimezone(UTC)


async def dashboard(session: AsyncSession, staff: Staff, now: datetime, tz: ZoneInfo) -> Dashboard:
    scope = visible(staff)
    await custom_plans(session)
    today = now.astimezone(tz).date()
    today_start, tomorrow = day_start(today, tz), day_start(today + timedelta(days=1), tz)
    first_day = today - timedelta(days=RECENT_DAYS - 1)
    recent_start = day_start(first_day, tz)

    # Open items by status: one pass over the (status, due) index gives the status chart and the
    # deadline figures together.
    rows = (await session.execute(
        select(Item.status, func.count(),
               func.sum(case((Item.due_answer_at < now, 1), else_=0)),
               func.sum(case(((Item.due_answer_at >= today_start) & (Item.due_answer_at < tomorrow), 1),
                             else_=0)))
        .where(scope, Item.status.in_([s.value for s in OPEN_ORDER]))
        .group_by(Item.status))).all()
    counts = {status: int(n) for status, n, _late, _today in rows}
    overdue = sum(int(late or 0) for status, _n, late, _today in rows if Status(status) in UNANSWERED)
    due_today = sum(int(t or 0) for status, _n, _late, t in rows if Status(status) in UNANSWERED)

    new_today = int(await session.scalar(
        select(func.count()).select_from(Item)
        .where(scope, Item.received_at >= today_start, Item.received_at < tomorrow,
               Item.status != S.received.value)) or 0)

    # Received per day: one count per day, each a range of the list index (migration 0005) — thirty
    # short ranges cost less than testing every row of the month against thirty days.
    buckets = [day_start(first_day + timedelta(days=n), tz) for n in range(RECENT_DAYS + 1)]
    per_day = [select(func.count()).select_from(Item)
               .where(scope, Item.received_at >= buckets[n], Item.received_at < buckets[n + 1],
                      Item.status != S.received.value).scalar_subquery() for n in range(RECENT_DAYS)]
    day_counts = (await session.execute(select(*per_day))).one()
    by_day = [(first_day + timedelta(days=n), int(c or 0)) for n, c in enumerate(day_counts)]
    recent = (Item.received_at >= recent_start, Item.received_at < tomorrow, Item.status != S.received.value)
    topic_rows = (await session.execute(
        select(Item.topic_id, func.count()).where(scope, *recent).group_by(Item.topic_id))).all()
    names = {t.id: (t.name_ru, t.name_en, t.sort) for t in await session.scalars(select(Topic))}
    by_topic = sorted(((names.get(tid, (None, None, 999))[0], names.get(tid, (None, None, 999))[1], int(n))
                       for tid, n in topic_rows), key=lambda r: -r[2])

    since = now - timedelta(days=SATISFACTION_DAYS)
    survey_query = (select(func.count(), func.sum(case((Survey.resolved == "yes", 1), else_=0)),
                           func.avg(Survey.score))
                    .where(Survey.answered_at >= since, Survey.resolved.is_not(None)))
    organisation = own_organisation(staff)
    if organisation is not None:
        # The survey keeps the organisation that answered: no visit to the items.
        by_org = plain(Survey.organisation_id) if session.bind.dialect.name == "sqlite" else Survey.organisation_id
        survey_query = survey_query.where(by_org == organisation)  # SQLite: walk the answer dates
    elif not sees_everything(staff):
        survey_query = survey_query.join(Item, Item.id == Survey.item_id).where(scope)
    answered, satisfied, score = (await session.execute(survey_query)).one()

    return Dashboard(
        new_today=new_today,
        waiting=counts.get(S.registered.value, 0),
        in_work=sum(counts.get(s.value, 0) for s in IN_WORK),
        review=sum(counts.get(s.value, 0) for s in REVIEW),
        due_today=due_today,
        overdue=overdue,
        surveys_answered=int(answered or 0),
        satisfied=int(satisfied or 0),
        average_score=None if score is None else round(float(score), 2),
        by_status=[(s.value, counts[s.value]) for s in OPEN_ORDER if counts.get(s.value)],
        by_topic=by_topic,
        by_day=by_day,
    )

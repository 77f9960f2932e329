"""Setting, redirecting, extending and pausing deadlines on a real seeded database."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.calendar import WorkingCalendar
from core.citizens import TelegramProfile, get_or_create_citizen, give_consent
from core.deadlines import (
    DeadlineContext,
    DeadlineError,
    PolicyBook,
    extend,
    load_policies,
    pause,
    recompute_on_redirect,
    resume,
    set_deadlines,
)
from core.intake import Incoming, register_bot_message
from db.models import DeadlinePolicy, Item, ItemEvent, Topic

MSK = ZoneInfo("Europe/Moscow")
FILED = datetime(2026, 4, 30, 15, 0, tzinfo=MSK)  # Thursday, before the May holidays
CAL = WorkingCalendar(MSK)
_numbers = count(1)


def msk(*args: int) -> datetime:
    return datetime(*args, tzinfo=MSK).astimezone(UTC)


async def _item(session, *, channel="email", kind="message", topic_code=None, priority=0, at=FILED) -> Item:
    topic_id = None
    if topic_code:
        topic_id = await session.scalar(select(Topic.id).where(Topic.code == topic_code))
    item = Item(number=f"T-{next(_numbers)}", channel=channel, kind=kind, topic_id=topic_id, priority=priority,
                status="registered", received_at=at, registered_at=at, text="…")
    session.add(item)
    await session.flush()
    return item


async def _events(session, item: Item) -> list[tuple[str, str | None, str | None, str | None]]:
    rows = (await session.scalars(select(ItemEvent).where(ItemEvent.item_id == item.id).order_by(ItemEvent.id))).all()
    assert all(e.actor_kind == "system" for e in rows if e.action.startswith("deadline"))
    return [(e.action, e.field, e.old_value, e.new_value) for e in rows]


async def test_bot_message_gets_ten_working_days_at_intake(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await get_or_create_citizen(session, TelegramProfile(1001, "Анна"))
        give_consent(citizen, FILED)
        item = (await register_bot_message(session, citizen, Incoming(text="Яма"), FILED, MSK)).item
    assert item.due_answer_at == msk(2026, 5, 18, 18, 0)
    assert item.due_registration_at == msk(2026, 5, 3, 15, 0)
    assert item.due_first_reaction_at is None
    async with sessionmaker() as session:
        events = [e for e in await _events(session, item) if e[0] == "deadline"]
    assert events == [
        ("deadline", "due_registration_at", None, msk(2026, 5, 3, 15, 0).isoformat()),
        ("deadline", "due_answer_at", None, msk(2026, 5, 18, 18, 0).isoformat()),
    ]


async def test_intake_uses_the_callers_context(sessionmaker):
    book = PolicyBook.from_rows([DeadlinePolicy(id=1, answer="1d")])
    async with sessionmaker() as session, session.begin():
        citizen = await get_or_create_citizen(session, TelegramProfile(1002, "Пётр"))
        give_consent(citizen, FILED)
        result = await register_bot_message(session, citizen, Incoming(text="Нет света"), FILED, MSK,
                                            deadlines=DeadlineContext(CAL, book))
    assert result.item.due_answer_at == msk(2026, 5, 1, 15, 0) and result.item.due_registration_at is None


async def test_appeal_59fz(sessionmaker):
    async with sessionmaker() as session, session.begin():
        book = await load_policies(session)
        item = await _item(session, kind="appeal")
        await set_deadlines(session, item, FILED, CAL, book)
        assert item.due_registration_at == msk(2026, 5, 3, 15, 0)
        assert item.due_first_reaction_at == msk(2026, 5, 7, 15, 0)  # the redirect window
        assert item.due_answer_at == msk(2026, 5, 30, 15, 0)  # a Saturday: kept by default
        moved = await _item(session, kind="appeal")
        await set_deadlines(session, moved, FILED, WorkingCalendar(MSK, move_to_working_day=True), book)
        assert moved.due_answer_at == msk(2026, 6, 1, 15, 0)


async def test_incident_management_working_hours(sessionmaker):
    async with sessionmaker() as session, session.begin():
        book = await load_policies(session)
        plain = await _item(session, channel="im")
        high = await _item(session, channel="im", priority=1)
        for item in (plain, high):
            await set_deadlines(session, item, FILED, CAL, book)
    # 3 office hours left on Thursday; 1–3 May are days off; Monday opens at 9:00.
    assert plain.due_first_reaction_at == msk(2026, 4, 30, 18, 0)
    assert plain.due_answer_at == msk(2026, 5, 4, 14, 0)
    assert high.due_answer_at == msk(2026, 5, 4, 10, 0)
    assert high.due_first_reaction_at == msk(2026, 4, 30, 18, 0)  # from the general ИМ row


async def test_topic_override_beats_the_general_row_field_by_field(sessionmaker):
    async with sessionmaker() as session, session.begin():
        roads = await session.scalar(select(Topic.id).where(Topic.code == "roads"))
        session.add(DeadlinePolicy(topic_id=roads, answer="5d"))
        await session.flush()
        item = await _item(session, topic_code="roads")
        await set_deadlines(session, item, FILED, CAL)
        other = await _item(session, topic_code="health")
        await set_deadlines(session, other, FILED, CAL)
    assert item.due_answer_at == msk(2026, 5, 5, 15, 0)
    assert item.due_registration_at == msk(2026, 5, 3, 15, 0)  # from the general row
    assert other.due_answer_at == msk(2026, 5, 30, 15, 0)


async def test_accelerated_topic(sessionmaker):
    async with sessionmaker() as session, session.begin():
        health = await session.scalar(select(Topic).where(Topic.code == "health"))
        health.accelerated = True
        await session.flush()
        book = await load_policies(session)
        bot = await _item(session, channel="bot", topic_code="health")
        im = await _item(session, channel="im", topic_code="health")
        for item in (bot, im):
            await set_deadlines(session, item, FILED, CAL, book)
        events = await _events(session, bot)
    assert bot.due_answer_at == msk(2026, 5, 10, 15, 0)  # 10d is earlier than 10wd
    assert im.due_answer_at == msk(2026, 5, 4, 14, 0)  # 8wh is earlier still
    assert any(e[1] == "due_answer_at" for e in events)


async def test_redirect_counts_the_answer_from_the_redirect(sessionmaker):
    later = msk(2026, 5, 12, 10, 0)
    async with sessionmaker() as session, session.begin():
        item = await _item(session, kind="appeal")
        await set_deadlines(session, item, FILED, CAL)
        await recompute_on_redirect(session, item, later, CAL)
        events = await _events(session, item)
    assert item.due_answer_at == msk(2026, 6, 11, 10, 0)
    assert events[-1] == ("deadline", "due_answer_at", msk(2026, 5, 30, 15, 0).isoformat(),
                          msk(2026, 6, 11, 10, 0).isoformat())


async def test_extension_once(sessionmaker):
    async with sessionmaker() as session, session.begin():
        item = await _item(session, kind="appeal")
        await set_deadlines(session, item, FILED, CAL)
        await extend(session, item, FILED, CAL, comment="запрос документов")
        assert item.extended and item.due_answer_at == msk(2026, 6, 29, 15, 0)
        with pytest.raises(DeadlineError, match="once"):
            await extend(session, item, FILED, CAL)
        assert item.due_answer_at == msk(2026, 6, 29, 15, 0)
        message = await _item(session, channel="bot")
        await set_deadlines(session, message, FILED, CAL)
        with pytest.raises(ValueError, match="extension"):
            await extend(session, message, FILED, CAL)
        assert not message.extended
        events = await _events(session, item)
    assert events[-1][1:] == ("due_answer_at", msk(2026, 5, 30, 15, 0).isoformat(), msk(2026, 6, 29, 15, 0).isoformat())


async def test_pause_and_resume_shift_running_deadlines(sessionmaker):
    async with sessionmaker() as session, session.begin():
        item = await _item(session, kind="appeal")
        item.registered_at = None  # registration still pending: its deadline is running
        await set_deadlines(session, item, FILED, CAL)
        at = msk(2026, 5, 4, 12, 0)  # after the registration deadline (3 May): it was missed
        assert pause(session, item, at) and not pause(session, item, at)
        assert resume(session, item, at + timedelta(days=2, hours=3), CAL) == timedelta(days=2, hours=3)
        assert item.paused_since is None
        assert item.due_registration_at == msk(2026, 5, 3, 15, 0)  # overdue before the pause: unchanged
        assert item.due_first_reaction_at == msk(2026, 5, 9, 18, 0)  # 7 May 15:00 + 2 d 3 h
        assert item.due_answer_at == msk(2026, 6, 1, 18, 0)
        assert resume(session, item, at, CAL) == timedelta(0)  # not paused: nothing to do
        actions = [e[0] for e in await _events(session, item)]
    assert actions[-4:] == ["deadline_paused", "deadline_resumed", "deadline", "deadline"]


async def test_resume_moves_off_a_day_off_when_the_calendar_says_so(sessionmaker):
    async with sessionmaker() as session, session.begin():
        item = await _item(session, channel="bot")
        await set_deadlines(session, item, FILED, CAL)  # 18 May 18:00, a Monday
        pause(session, item, msk(2026, 5, 5, 10, 0))
        resume(session, item, msk(2026, 5, 10, 10, 0), WorkingCalendar(MSK, move_to_working_day=True))
    assert item.due_answer_at == msk(2026, 5, 25, 18, 0)  # +5 days = Saturday 23 May → Monday 25 May

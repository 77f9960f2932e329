"""Intake on a real database: numbering, albums, redelivery, additions, history."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from core.citizens import TelegramProfile, get_or_create_citizen, give_consent
from core.intake import FileIn, Incoming, add_to_item, citizen_items, register_bot_message
from core.numbering import next_item_number
from db.models import Attachment, Item, ItemEvent, ItemMessage, Status, Theme, Topic

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _citizen(session, telegram_id=1001):
    citizen = await get_or_create_citizen(session, TelegramProfile(telegram_id, "Анна", "Иванова", "anna"))
    give_consent(citizen, NOW)
    await session.flush()
    return citizen


async def test_reference_data_seeded(sessionmaker):
    async with sessionmaker() as session:
        codes = (await session.scalars(select(Topic.code).order_by(Topic.sort))).all()
        assert codes == ["health", "education", "social", "housing", "waste", "roads", "transport", "energy", "other"]
        assert await session.scalar(select(func.count(Theme.id))) == 195
        energy = await session.scalar(select(Topic).where(Topic.code == "energy"))
        groups = set((await session.scalars(select(Theme.group_name).where(Theme.topic_id == energy.id))).all())
        assert groups == {"Электроснабжение", "Газ и топливо"}


async def test_numbers_are_sequential_per_year_in_district_time(sessionmaker):
    async with sessionmaker() as session, session.begin():
        first = await next_item_number(session, NOW, MSK)
        second = await next_item_number(session, NOW, MSK)
        # 31 Dec 21:30 UTC is already 1 January in Moscow: a new year's sequence.
        new_year = await next_item_number(session, datetime(2026, 12, 31, 21, 30, tzinfo=UTC), MSK)
    assert (first, second, new_year) == ("2026-000001", "2026-000002", "2027-000001")


async def test_concurrent_numbering_never_repeats(sessionmaker):
    async def take() -> str:
        async with sessionmaker() as session, session.begin():
            return await next_item_number(session, NOW, MSK)

    numbers = await asyncio.gather(*(take() for _ in range(20)))
    assert len(set(numbers)) == 20


async def test_message_becomes_registered_item_with_history(sessionmaker):
    long_text = "Яма на дороге. " * 700  # over 10,000 characters: stored whole
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        result = await register_bot_message(
            session, citizen, Incoming(text=long_text, tg_chat_id=1001, tg_message_id=5), NOW, MSK
        )
        assert result.created
    async with sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert item.text == long_text and len(item.text) > 10_000
        assert item.status == Status.registered and item.registered_at == NOW
        assert item.number == "2026-000001" and item.channel == "bot" and item.kind == "message"
        events = (await session.scalars(select(ItemEvent).order_by(ItemEvent.id))).all()
        assert [(e.action, e.old_value, e.new_value) for e in events] == [
            ("created", None, "2026-000001"),
            ("status", "received", "registered"),
            # Deadlines of a bot сообщение (core/deadlines.py): registration 3d, answer 10wd.
            ("deadline", None, "2026-03-05T09:00:00+00:00"),
            ("deadline", None, "2026-03-17T15:00:00+00:00"),
        ]
        assert all(e.actor_kind == "citizen" and e.actor_citizen_id == item.citizen_id for e in events[:2])
        assert all(e.actor_kind == "system" for e in events[2:])


async def test_same_message_twice_is_one_item(sessionmaker):
    incoming = Incoming(text="Нет света", tg_chat_id=1001, tg_message_id=7)
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        first = await register_bot_message(session, citizen, incoming, NOW, MSK)
        again = await register_bot_message(session, citizen, incoming, NOW, MSK)
    assert first.created and not again.created and again.item.id == first.item.id


async def test_album_parts_join_one_item(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        results = []
        for n in range(3):
            photo = FileIn("photo", f"file-{n}", f"u-{n}", None, "image/jpeg", 1000)
            incoming = Incoming(text="Свалка у реки" if n == 0 else "", files=(photo,), tg_chat_id=1001,
                                tg_message_id=10 + n, media_group_id="album-1")
            results.append(await register_bot_message(session, citizen, incoming, NOW, MSK))
    assert [r.created for r in results] == [True, False, False]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 1
        assert await session.scalar(select(func.count(Attachment.id))) == 3


async def test_additions_keep_text_files_and_place(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        item = (await register_bot_message(session, citizen, Incoming(text="Не вывозят мусор"), NOW, MSK)).item
        await add_to_item(session, item, citizen, Incoming(
            text="Уже неделю", files=(FileIn("document", "doc-1", None, "акт.pdf", "application/pdf", 10),),
            latitude=55.6, longitude=34.3), NOW)
    async with sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert (item.latitude, item.longitude) == (55.6, 34.3)
        message = await session.scalar(select(ItemMessage))
        assert message.text == "Уже неделю" and message.kind == "addition"
        attachment = await session.scalar(select(Attachment))
        assert attachment.message_id == message.id and attachment.file_name == "акт.pdf"
        items, total = await citizen_items(session, item.citizen_id)
        assert total == 1 and items[0].id == item.id


async def test_first_contact_race_creates_one_citizen(sessionmaker):
    async def contact() -> int:
        async with sessionmaker() as session, session.begin():
            return (await get_or_create_citizen(session, TelegramProfile(777, "Пётр"))).id

    ids = await asyncio.gather(*(contact() for _ in range(5)))
    assert len(set(ids)) == 1

"""The bot's draft items on a real database: received at once, filled in, confirmed or withdrawn;
the checks of a 59-ФЗ applicant's name and address; settlements as a citizen names them."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.citizens import TelegramProfile, get_or_create_citizen, give_consent
from core.intake import (
    MAX_FILE_SIZE,
    BadInput,
    DraftError,
    FileIn,
    Incoming,
    ReplyAddress,
    add_to_draft,
    check_full_name,
    check_reply_address,
    confirm_draft,
    latest_draft,
    receive_bot_message,
    register_bot_message,
    set_applicant,
    set_kind,
    set_reply_address,
    withdraw_draft,
)
from core.lifecycle import lifecycle_context
from core.settlements import match_settlements, nearest_settlement
from core.staff import add_staff
from db.models import Attachment, Item, ItemKind, OutboxMessage, Role, Settlement, Status

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def _citizen(session, telegram_id=2001):
    citizen = await get_or_create_citizen(session, TelegramProfile(telegram_id, "Анна"))
    give_consent(citizen, NOW)
    await session.flush()
    return citizen


async def test_a_message_is_received_as_a_numbered_draft_without_deadlines(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        photo = FileIn("photo", "ph-1", "u-1", None, "image/jpeg", 1000)
        result = await receive_bot_message(session, citizen, Incoming("Яма", (photo,), tg_chat_id=2001,
                                                                      tg_message_id=1), NOW, MSK)
        assert result.created
    async with sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert item.status == Status.received and item.number == "2026-000001"
        assert item.registered_at is None and item.due_answer_at is None and item.due_registration_at is None
        assert (await session.scalar(select(Attachment))).message_id is None


async def test_immediate_registration_is_still_there(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        item = (await register_bot_message(session, citizen, Incoming("Нет света"), NOW, MSK)).item
        assert item.status == Status.registered and item.due_answer_at is not None


async def test_the_draft_gathers_text_files_and_place(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        item = (await receive_bot_message(session, citizen, Incoming("Не вывозят мусор"), NOW, MSK)).item
        add_to_draft(session, item, Incoming("уже неделю", (FileIn("voice", "v-1"),), 55.1, 34.2))
        add_to_draft(session, item, Incoming("  ", latitude=1.0, longitude=1.0))  # the first place stays
        await session.flush()
        assert item.text == "Не вывозят мусор\n\nуже неделю" and (item.latitude, item.longitude) == (55.1, 34.2)
        assert [a.kind for a in (await session.scalars(select(Attachment))).all()] == ["voice"]


async def test_an_album_joins_the_draft_as_its_own_files(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        for n in range(3):
            incoming = Incoming("Свалка" if n == 0 else "", (FileIn("photo", f"p-{n}"),), tg_chat_id=2001,
                                tg_message_id=10 + n, media_group_id="g-1")
            await receive_bot_message(session, citizen, incoming, NOW, MSK)
        files = (await session.scalars(select(Attachment))).all()
        assert len(files) == 3 and all(f.message_id is None for f in files)
        assert len((await session.scalars(select(Item))).all()) == 1


async def test_confirming_registers_sets_deadlines_and_sends_the_triage_card(sessionmaker, settings):
    async with sessionmaker() as session, session.begin():
        await add_staff(session, telegram_id=777, roles=[Role.curator], name="Ольга")
        citizen = await _citizen(session)
        item = (await receive_bot_message(session, citizen, Incoming("Нет воды"), NOW, MSK)).item
        later = NOW + timedelta(minutes=5)
        ctx = await lifecycle_context(session, settings, later)
        await confirm_draft(ctx, item, citizen)
        assert item.status == Status.registered and item.registered_at == later
        assert item.due_answer_at is not None and item.due_registration_at is not None
        cards = (await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == 777))).all()
        assert len(cards) == 1 and item.number in cards[0].payload["text"]
        with pytest.raises(DraftError):
            await confirm_draft(ctx, item, citizen)  # not a draft any more


async def test_an_appeal_needs_name_and_address_and_they_are_remembered(sessionmaker, settings):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        item = (await receive_bot_message(session, citizen, Incoming("Прошу ответить"), NOW, MSK)).item
        set_kind(item, ItemKind.appeal)
        ctx = await lifecycle_context(session, settings, NOW)
        with pytest.raises(DraftError):
            await confirm_draft(ctx, item, citizen)
        set_applicant(item, citizen, "Иванова Анна")
        set_reply_address(item, citizen, ReplyAddress("postal", "с. Ивановка, ул. Лесная, д. 3"))
        await confirm_draft(ctx, item, citizen)
        assert (item.due_answer_at - item.registered_at).days == 30
        assert (citizen.full_name, citizen.postal_address) == ("Иванова Анна", "с. Ивановка, ул. Лесная, д. 3")
        # Back to a сообщение, the 59-ФЗ details leave the item (not the citizen).
        other = (await receive_bot_message(session, citizen, Incoming("Ещё"), NOW, MSK)).item
        set_applicant(other, citizen, "Иванова Анна")
        set_kind(other, ItemKind.message)
        assert other.applicant_name is None and citizen.full_name == "Иванова Анна"


async def test_withdrawing_a_draft_keeps_it_and_only_the_owner_may(sessionmaker):
    async with sessionmaker() as session, session.begin():
        citizen = await _citizen(session)
        stranger = await _citizen(session, 2002)
        item = (await receive_bot_message(session, citizen, Incoming("Яма"), NOW, MSK)).item
        assert await latest_draft(session, citizen.id, NOW) is item
        assert await latest_draft(session, citizen.id, NOW + timedelta(days=31)) is None
        with pytest.raises(DraftError):
            await withdraw_draft(session, item, stranger, NOW, "чужой")
        await withdraw_draft(session, item, citizen, NOW, "отменено заявителем")
        assert item.status == Status.withdrawn and item.closed_at == NOW
        assert await latest_draft(session, citizen.id, NOW) is None


def test_file_size_limit():
    assert FileIn("document", "d", size=MAX_FILE_SIZE + 1).too_big
    assert not FileIn("document", "d", size=MAX_FILE_SIZE).too_big and not FileIn("photo", "p").too_big


@pytest.mark.parametrize(("text", "expected"), [
    ("Иванов Иван Иванович", "Иванов Иван Иванович"),
    ("  Петрова   Анна-Мария ", "Петрова Анна-Мария"),
    ("О'Брайен Джон", "О'Брайен Джон"),
    ("Smith John", "Smith John"),
])
def test_good_names(text, expected):
    assert check_full_name(text) == expected


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("   ", "empty"), ("...", "empty"), ("Иванов", "short"), ("Иванов 1van", "symbols"),
    ("Иванов Иван!", "symbols"), ("Иванов " + "И" * 200, "long"),
])
def test_bad_names(text, reason):
    with pytest.raises(BadInput) as bad:
        check_full_name(text)
    assert bad.value.reason == reason


@pytest.mark.parametrize(("text", "kind"), [
    ("anna@example.ru", "email"), ("a.b-c@mail.co.uk", "email"),
    ("215240, с. Ивановка, ул. Лесная, д. 3", "postal"), ("Ивановка Лесная 3 кв 5", "postal"),
])
def test_good_reply_addresses(text, kind):
    assert check_reply_address(text).kind == kind


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"), ("anna@mail", "email"), ("anna@@mail.ru", "email"), ("anna mail@ru", "email"),
    ("Ленина 5", "postal"), ("улица Ленина дом", "postal"), ("слово " * 40 + "5", "long"),
])
def test_bad_reply_addresses(text, reason):
    with pytest.raises(BadInput) as bad:
        check_reply_address(text)
    assert bad.value.reason == reason


def _places() -> list[Settlement]:
    return [Settlement(id=n, name=name, latitude=lat, longitude=lon) for n, (name, lat, lon) in enumerate([
        ("Ёлкино", 55.0, 34.0), ("Берёзовка", None, None), ("Берёзки", None, None), ("Новоберёзово", None, None),
        ("Ивановка", 55.5, 34.5),
    ])]


def test_settlements_by_part_of_the_name():
    places = _places()
    names = lambda query: [s.name for s in match_settlements(places, query)]
    assert names("елкино") == names("ЁЛКИНО") == names("с. Ёлкино") == ["Ёлкино"]
    assert names("берез") == ["Берёзовка", "Берёзки"]  # starting with it beats containing it
    assert names("берёзово") == ["Новоберёзово"]
    assert names("Березки") == ["Берёзки"] and names("Марс") == [] and names(" . ") == []


def test_nearest_settlement_within_the_limit():
    places = _places()
    assert nearest_settlement(places, 55.51, 34.5).name == "Ивановка"
    assert nearest_settlement(places, 57.0, 30.0) is None
    assert nearest_settlement([Settlement(id=1, name="Без координат")], 55.0, 34.0) is None

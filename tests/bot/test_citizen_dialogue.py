"""The intake dialogue end to end: the real bot over the sandbox Bot API, a real database.

Every step, «Назад», «Отменить», resuming an abandoned dialogue, old and forged presses and bad
input (a wrong e-mail, an empty name, a too-big document, a sticker, an unknown settlement)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.factory import make_bot, make_dispatcher
from bot.middlewares.throttling import ThrottlingMiddleware
from core.clock import ManualClock
from db.models import Attachment, Citizen, Item, ItemEvent, ItemKind, ItemMessage, Status, Topic
from sandbox import SandboxClient
from tests.bot.conftest import NUMBER, FakeMonotonic, Harness
from tests.bot.dialogue_steps import (
    IVANOVKA,
    act,
    begin,
    button,
    buttons,
    expect,
    own_settlements,
    press,
    say,
    to_files,
    to_settlement,
    to_summary,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def harness(settings, sessionmaker, sandbox_server, clock) -> AsyncIterator[Harness]:
    """The shared harness, with the bot's clock in the test's hand (to leave a dialogue for an hour)."""
    throttle = FakeMonotonic()
    bot = make_bot(settings, api_url=sandbox_server.url)
    dp = make_dispatcher(settings, sessionmaker, clock=clock,
                         throttling=ThrottlingMiddleware(settings.throttle_burst, settings.throttle_interval, throttle))
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False,
                                                   polling_timeout=1))
    async with SandboxClient(sandbox_server.url) as sb:
        await sb.limits(enabled=False)
        yield Harness(bot, dp, sb, sessionmaker, throttle)
    await dp.stop_polling()
    await asyncio.wait_for(polling, 10)
    await bot.session.close()


async def citizen_ready(h: Harness, user_id: int) -> int:
    await own_settlements(h)
    user = await h.user(user_id)
    await h.consent(user)
    return user


async def the_item(h: Harness) -> Item:
    async with h.sessionmaker() as session:
        return await session.scalar(select(Item).order_by(Item.id.desc()).limit(1))


async def callback_answers(h: Harness, user: int, after: int = 0) -> list[str]:
    await asyncio.sleep(0.3)
    return [a.get("text") or "" for a in (await h.sb.callback_answers(user))[after:]]


# --- the whole way ----------------------------------------------------------------------------------


async def test_message_walks_every_step_and_is_registered(harness):
    h = harness
    user = await citizen_ready(h, 6001)
    kind = await begin(h, user, "На улице Ленина огромные ямы, асфальт разбит")
    number = NUMBER.search(kind["text"]).group(1)
    assert "Сообщение" in buttons(kind) and "Обращение по 59-ФЗ" in buttons(kind)
    assert "« Назад" not in buttons(kind)  # the first step
    item = await the_item(h)
    # Numbered at once, nothing lost; registered only when the citizen confirms.
    assert item.number == number and item.status == Status.received and item.due_answer_at is None
    topic = await press(h, user, kind, "Сообщение", "Похоже, это тема «Дороги». Верно?")
    where = await press(h, user, topic, "Да", "Где это?")
    assert "Пропустить" in buttons(where)
    chat = await h.sb.chat(user)
    assert chat["keyboard"]["keyboard"][0][0]["request_location"] is True
    await press(h, user, where, "Ивановка", "Уточните адрес")
    assert (await h.sb.chat(user))["keyboard"] is None  # the location button is gone
    await say(h, user, "ул. Ленина, 5, у магазина", "Если есть фото")
    added = await act(h, user, lambda: h.sb.send_photo(user, b"\x89PNG" + b"\x00" * 50, "yama.png"),
                      "Всего вложений: 1")
    phone = await press(h, user, added, "Готово", "Если не хотите оставлять телефон")
    assert "Пропустить" in buttons(phone)
    assert (await h.sb.chat(user))["keyboard"]["keyboard"][0][0]["request_contact"] is True
    summary = await act(h, user, lambda: h.sb.send_contact(user, "+7 900 123-45-67", contact_user_id=user),
                        "Проверьте, пожалуйста")
    assert "Дороги" in summary["text"] and "Ивановка, ул. Ленина, 5" in summary["text"]
    assert "Вложений: 1" in summary["text"] and "ямы" in summary["text"] and number in summary["text"]
    done = await press(h, user, summary, "Подтвердить", "зарегистрировано")
    assert number in done["text"] and "Что дальше" in done["text"] and "не позднее" in done["text"]
    async with h.sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert item.status == Status.registered and item.due_answer_at is not None
        assert item.kind == ItemKind.message and item.address == "ул. Ленина, 5, у магазина"
        assert (await session.get(Topic, item.topic_id)).code == "roads"
        attachment = await session.scalar(select(Attachment))
        assert attachment.item_id == item.id and attachment.message_id is None  # the item's own file
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == user))
        assert citizen.phone == "+79001234567"
        events = [(e.action, e.new_value) for e in
                  (await session.scalars(select(ItemEvent).order_by(ItemEvent.id))).all()]
        assert ("status", "registered") in events and events[0] == ("created", number)
    # Next time the phone is known: no phone step.
    files = await to_files(h, user, "Снова яма на дороге")
    summary = await press(h, user, files, "Готово", "Проверьте, пожалуйста")
    assert "+79001234567" in summary["text"]


async def test_appeal_asks_name_and_address_checks_them_and_offers_them_next_time(harness):
    h = harness
    user = await citizen_ready(h, 6002)
    kind = await begin(h, user, "Прошу разобраться с начислениями")
    name = await press(h, user, kind, "Обращение по 59-ФЗ", "фамилию, имя и отчество")
    assert not any(b.startswith("Использовать") for b in buttons(name))
    wrong = await say(h, user, "...", "буквами")
    assert "фамилию, имя и отчество" in wrong["text"]
    await say(h, user, "Иванов", "два слова")
    await say(h, user, "Иванов 1van", "только буквы")
    address = await say(h, user, "Иванова Анна Петровна", "Куда направить ответ")
    await say(h, user, "anna@mail", "не похоже на адрес электронной почты")
    await say(h, user, "Ленина 5", "слишком короткий")
    topics = await say(h, user, "anna.ivanova@example.ru", "Выберите тему")
    assert "Прочее" in buttons(topics) and len(buttons(topics)) == 9 + 2
    where = await press(h, user, topics, "ЖКХ", "Где это?")
    assert "Пропустить" not in buttons(where)  # 59-ФЗ: the place is needed
    address = await say(h, user, "ёлкино", "Уточните адрес")
    assert "Населённый пункт: Ёлкино" in (await h.sb.bot_messages(user))[-2]["text"]
    files = await press(h, user, address, "Пропустить", "Если есть фото")
    phone = await press(h, user, files, "Готово", "Если не хотите оставлять телефон")
    summary = await press(h, user, phone, "Пропустить", "Проверьте, пожалуйста")
    assert "Обращение по 59-ФЗ" in summary["text"] and "Иванова Анна Петровна" in summary["text"]
    assert "anna.ivanova@example.ru" in summary["text"] and "Ёлкино" in summary["text"]
    done = await press(h, user, summary, "Подтвердить", "Обращение по 59-ФЗ зарегистрировано")
    assert "anna.ivanova@example.ru" in done["text"]
    async with h.sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert item.kind == ItemKind.appeal and item.applicant_name == "Иванова Анна Петровна"
        assert item.reply_address == "anna.ivanova@example.ru" and item.status == Status.registered
        # 59-ФЗ: 30 days for the answer.
        assert (item.due_answer_at - item.registered_at).days == 30
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == user))
        assert (citizen.full_name, citizen.email) == ("Иванова Анна Петровна", "anna.ivanova@example.ru")
    # The next appeal offers both back.
    kind = await begin(h, user, "Ещё одно обращение о начислениях")
    name = await press(h, user, kind, "Обращение по 59-ФЗ", "фамилию, имя и отчество")
    address = await press(h, user, name, "Использовать: Иванова Анна Петровна", "Куда направить ответ")
    await press(h, user, address, "Использовать: anna.ivanova@example.ru", "Выберите тему")
    item = await the_item(h)
    assert (item.applicant_name, item.reply_address) == ("Иванова Анна Петровна", "anna.ivanova@example.ru")


async def test_postal_address_is_kept_for_the_answer(harness):
    h = harness
    user = await citizen_ready(h, 6003)
    kind = await begin(h, user, "Прошу отремонтировать дорогу")
    await press(h, user, kind, "Обращение по 59-ФЗ", "фамилию, имя и отчество")
    await say(h, user, "Петров Пётр", "Куда направить ответ")
    await say(h, user, "215240, с. Ивановка, ул. Лесная, д. 3", "Похоже, это тема «Дороги»")
    async with h.sessionmaker() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == user))
        assert citizen.postal_address == "215240, с. Ивановка, ул. Лесная, д. 3" and citizen.email is None


# --- back and cancel --------------------------------------------------------------------------------


async def test_back_walks_the_visited_steps_in_reverse(harness):
    h = harness
    user = await citizen_ready(h, 6004)
    where = await to_settlement(h, user)
    address = await press(h, user, where, "Ивановка", "Уточните адрес")
    where = await press(h, user, address, "Назад", "Где это?")
    topic = await press(h, user, where, "Назад", "Похоже, это тема «Дороги»")
    kind = await press(h, user, topic, "Назад", "Как подать?")
    name = await press(h, user, kind, "Обращение по 59-ФЗ", "фамилию, имя и отчество")
    kind = await press(h, user, name, "Назад", "Как подать?")
    topic = await press(h, user, kind, "Сообщение", "Похоже, это тема")
    listing = await press(h, user, topic, "Выбрать другую", "Выберите тему")
    topic = await press(h, user, listing, "Назад", "Похоже, это тема «Дороги»")
    item = await the_item(h)
    assert item.kind == ItemKind.message and item.applicant_name is None and item.status == Status.received


async def test_cancel_withdraws_the_draft_and_keeps_it(harness):
    h = harness
    user = await citizen_ready(h, 6005)
    where = await to_settlement(h, user)
    done = await press(h, user, where, "Отменить", "Отменили")
    assert NUMBER.search(done["text"])
    assert (await h.sb.chat(user))["keyboard"] is None
    async with h.sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert item.status == Status.withdrawn and item.closed_at is not None
        event = await session.scalar(select(ItemEvent).where(ItemEvent.new_value == "withdrawn"))
        assert event.actor_kind == "citizen" and "отменено" in event.comment
    mine = await say(h, user, "/my", "Ваши сообщения")
    assert "отозвано" in mine["text"]
    # The next message is a new story with a new number.
    kind = await begin(h, user, "Новая проблема: нет света")
    assert NUMBER.search(kind["text"]).group(1) != item.number


# --- what the citizen types where a button is awaited -------------------------------------------------


async def test_text_at_kind_step_joins_the_draft_and_the_question_repeats(harness):
    h = harness
    user = await citizen_ready(h, 6006)
    await begin(h, user, "Не вывозят мусор")
    again = await say(h, user, "уже две недели", "Как подать?")
    assert "Добавили это к вашему сообщению" in again["text"]
    assert (await the_item(h)).text == "Не вывозят мусор\n\nуже две недели"


async def test_text_at_topic_step_refines_the_suggestion(harness):
    h = harness
    user = await citizen_ready(h, 6007)
    kind = await begin(h, user, "Не вывозят мусор")
    await press(h, user, kind, "Сообщение", "Похоже, это тема «ТКО»")
    topic = await say(h, user, "а ещё на дороге яма, асфальт и тротуар разбиты", "Похоже, это тема «Дороги»")
    assert "Добавили этот текст" in topic["text"]


async def test_no_keyword_shows_the_topic_list(harness):
    h = harness
    user = await citizen_ready(h, 6008)
    kind = await begin(h, user, "Добрый день, помогите, пожалуйста")
    listing = await press(h, user, kind, "Сообщение", "Выберите тему")
    where = await press(h, user, listing, "Прочее", "Где это?")
    assert where
    async with h.sessionmaker() as session:
        item = await session.scalar(select(Item))
        assert (await session.get(Topic, item.topic_id)).code == "other"


async def test_settlement_by_name_several_matches_unknown_and_pages(harness):
    h = harness
    user = await citizen_ready(h, 6009)
    where = await to_settlement(h, user)
    assert "Страница 1 из 2" in where["text"] and "Яблоновка" not in buttons(where)
    page = await h.press(user, where, "Дальше по списку")  # edited in place
    assert "Страница 2 из 2" in page["text"] and "Яблоновка" in buttons(page)
    unknown = await say(h, user, "Марсово", "Не нашли «Марсово»")
    assert "Яблоновка" in buttons(unknown)  # the page the citizen was on
    several = await say(h, user, "берез", "Нашлось несколько")
    assert sorted(b for b in buttons(several) if b.startswith("Берёз")) == ["Берёзки", "Берёзовка"]
    await press(h, user, several, "Берёзки", "Уточните адрес")
    item = await the_item(h)
    async with h.sessionmaker() as session:
        from db.models import Settlement

        assert (await session.get(Settlement, item.settlement_id)).name == "Берёзки"


async def test_location_sets_coordinates_and_the_nearest_settlement(harness):
    h = harness
    user = await citizen_ready(h, 6010)
    await to_settlement(h, user)
    after = await h.last_id(user)
    await h.sb.send_location(user, IVANOVKA[0] + 0.01, IVANOVKA[1])
    note = await expect(h, user, after, "Геопозиция получена")
    assert "Ивановка" in note["text"]
    await expect(h, user, after, "Уточните адрес")
    item = await the_item(h)
    assert item.latitude == pytest.approx(IVANOVKA[0] + 0.01) and item.settlement_id is not None


async def test_skip_place_for_a_message(harness):
    h = harness
    user = await citizen_ready(h, 6011)
    where = await to_settlement(h, user)
    files = await press(h, user, where, "Пропустить", "Уточните адрес")
    await press(h, user, files, "Пропустить", "Если есть фото")
    assert (await the_item(h)).settlement_id is None


async def test_files_step_takes_files_and_text_refuses_a_too_big_document(harness):
    h = harness
    user = await citizen_ready(h, 6012)
    await to_files(h, user)
    added = await say(h, user, "Фото сделаю завтра", "Добавили этот текст")
    assert "✅ Готово" in buttons(added)
    after = await h.last_id(user)
    h.throttle_clock.value += 5
    await h.sb.raw_update({"message": {
        "message_id": 70_001, "date": 1_780_000_000,
        "chat": {"id": user, "type": "private", "first_name": "Анна"},
        "from": {"id": user, "is_bot": False, "first_name": "Анна"},
        "document": {"file_id": "BIG-FILE", "file_unique_id": "big", "file_name": "видео.zip",
                     "mime_type": "application/zip", "file_size": 25 * 1024 * 1024},
    }})
    refused = await expect(h, user, after, "больше 20 МБ")
    assert "видео.zip" in refused["text"] and "✅ Готово" in buttons(refused)
    added = await act(h, user, lambda: h.sb.send_document(user, b"%PDF-1.4", "акт.pdf", "application/pdf"),
                      "Всего вложений: 1")
    voice = await act(h, user, lambda: h.sb.send_voice(user, b"OggS" + b"\x00" * 40, duration=2),
                      "Всего вложений: 2")
    assert voice and added
    item = await the_item(h)
    assert item.text.endswith("Фото сделаю завтра")
    async with h.sessionmaker() as session:
        kinds = (await session.scalars(select(Attachment.kind).order_by(Attachment.id))).all()
        assert kinds == ["document", "voice"]


async def test_sticker_mid_dialogue_is_refused_and_the_step_repeats(harness):
    h = harness
    user = await citizen_ready(h, 6013)
    await begin(h, user, "Нет воды в доме")
    hint = await act(h, user, lambda: h.sb.send_sticker(user), "не можем принять")
    assert "Как подать?" in hint["text"] and "Сообщение" in buttons(hint)


async def test_a_typed_phone_is_taken(harness):
    h = harness
    user = await citizen_ready(h, 6014)
    files = await to_files(h, user)
    await press(h, user, files, "Готово", "Если не хотите оставлять телефон")
    summary = await say(h, user, "8 (900) 765-43-21", "Проверьте, пожалуйста")
    assert "Телефон: 89007654321" in summary["text"]
    assert (await h.sb.chat(user))["keyboard"] is None


async def test_summary_changes_topic_and_place_then_returns(harness):
    h = harness
    user = await citizen_ready(h, 6015)
    summary = await to_summary(h, user)
    assert "Дороги" in summary["text"] and "Ивановка" in summary["text"]
    listing = await press(h, user, summary, "Изменить тему", "Выберите тему")
    summary = await press(h, user, listing, "Транспорт", "Проверьте, пожалуйста")
    assert "Транспорт" in summary["text"]
    where = await press(h, user, summary, "Изменить место", "Где это?")
    address = await say(h, user, "Сосновка", "Уточните адрес")
    summary = await say(h, user, "у остановки", "Проверьте, пожалуйста")
    assert "Сосновка, у остановки" in summary["text"] and where
    files = await press(h, user, summary, "Добавить файлы", "Если есть фото")
    summary = await press(h, user, files, "Назад", "Проверьте, пожалуйста")  # back returns to the summary
    extra = await say(h, user, "И ещё: яма очень глубокая", "Проверьте, пожалуйста")
    assert "Добавили это" in extra["text"] and address
    done = await press(h, user, extra, "Подтвердить", "зарегистрировано")
    assert done
    item = await the_item(h)
    assert item.status == Status.registered and item.text.endswith("яма очень глубокая")


# --- an abandoned dialogue ------------------------------------------------------------------------------


async def test_abandoned_dialogue_offers_continue(harness, clock):
    h = harness
    user = await citizen_ready(h, 6016)
    await to_settlement(h, user)
    clock.advance(hours=2)
    offer = await say(h, user, "Вы забыли про мою яму?", "Вы не закончили оформлять")
    assert "Продолжить" in buttons(offer) and "Начать заново" in buttons(offer)
    where = await press(h, user, offer, "Продолжить", "Где это?")
    assert "Продолжаем" in (await h.sb.bot_messages(user))[-2]["text"] + where["text"]
    item = await the_item(h)
    assert item.text.endswith("Вы забыли про мою яму?") and item.status == Status.received


async def test_abandoned_dialogue_start_over_makes_a_new_draft_of_the_new_message(harness, clock):
    h = harness
    user = await citizen_ready(h, 6017)
    kind = await begin(h, user, "Старая история про яму")
    old = NUMBER.search(kind["text"]).group(1)
    clock.advance(hours=3)
    offer = await say(h, user, "Совсем другое: нет воды", "Вы не закончили оформлять")
    kind = await press(h, user, offer, "Начать заново", "Как подать?")
    assert f"№ {old} отменено" in kind["text"]
    new = NUMBER.findall(kind["text"])[-1]
    assert new != old
    async with h.sessionmaker() as session:
        items = {i.number: i for i in (await session.scalars(select(Item))).all()}
        assert items[old].status == Status.withdrawn and items[new].status == Status.received
        assert items[new].text == "Совсем другое: нет воды"


async def test_start_while_a_draft_is_open_offers_it_back(harness):
    h = harness
    user = await citizen_ready(h, 6018)
    await to_settlement(h, user)
    offer = await say(h, user, "/start", "Вы не закончили оформлять")
    again = await press(h, user, offer, "Начать заново", "Опишите, что случилось")
    assert again
    assert (await the_item(h)).status == Status.withdrawn
    greeting = await say(h, user, "/start", "Здравствуйте")
    assert greeting


# --- buttons that must not work ---------------------------------------------------------------------------


async def test_old_and_forged_dialogue_presses_change_nothing(harness):
    h = harness
    user = await citizen_ready(h, 6019)
    kind = await begin(h, user, "Яма на дороге")
    topic = await press(h, user, kind, "Сообщение", "Похоже, это тема")
    seen = len(await h.sb.callback_answers(user))
    # The kind question's button again (the step is over), and a topic for another draft id.
    await h.sb.press(user, kind["message_id"], button(kind, "Обращение"), forge=True)
    draft = (await the_item(h)).id
    await h.sb.press(user, topic["message_id"], f"dt:health:{draft + 100}", forge=True)
    await h.sb.press(user, topic["message_id"], f"dt:nonsense:{draft}", forge=True)
    answers = await callback_answers(h, user, seen)
    assert len(answers) == 3 and all("больше не действует" in a for a in answers)
    item = await the_item(h)
    assert item.kind == ItemKind.message and item.topic_id is None


async def test_forged_my_press_on_someone_elses_item_is_refused(harness):
    h = harness
    owner = await citizen_ready(h, 6020)
    await begin(h, owner, "Моя проблема с водой")
    item = await the_item(h)
    intruder = await h.user(6021, first_name="Пётр")
    await h.consent(intruder)
    mine = await say(h, intruder, "/help", "Как пользоваться")
    seen = len(await h.sb.callback_answers(intruder))
    for action in ("withdraw", "wyes", "add", "resume"):
        await h.sb.press(intruder, mine["message_id"], f"mi:{action}:{item.id}", forge=True)
    answers = await callback_answers(h, intruder, seen)
    assert len(answers) == 4 and all("не к вашему" in a for a in answers)
    assert (await the_item(h)).status == Status.received


# --- /my: add to an item, withdraw one -----------------------------------------------------------------


async def test_my_add_and_withdraw(harness):
    h = harness
    user = await citizen_ready(h, 6022)
    summary = await to_summary(h, user)
    await press(h, user, summary, "Подтвердить", "зарегистрировано")
    item = await the_item(h)
    short = str(int(item.number.split("-")[1]))
    mine = await say(h, user, "/my", "Ваши сообщения")
    prompt = await press(h, user, mine, f"Дополнить № {short}", "Напишите, что добавить")
    saved = await say(h, user, "Яма стала ещё больше", "Добавили к №")
    assert item.number in saved["text"]
    async with h.sessionmaker() as session:
        addition = await session.scalar(select(ItemMessage).where(ItemMessage.item_id == item.id))
        assert addition.kind == "addition" and addition.text == "Яма стала ещё больше"
    # The next message is a new story again.
    kind = await begin(h, user, "Новая тема: автобус не пришёл")
    assert NUMBER.search(kind["text"]).group(1) != item.number
    await press(h, user, kind, "Отменить", "Отменили")
    # «Дополнить», then cancel.
    mine = await say(h, user, "/my", "Ваши сообщения")
    prompt = await press(h, user, mine, f"Дополнить № {short}", "Напишите, что добавить")
    await press(h, user, prompt, "Отменить", "ничего не добавляем")
    # Withdraw, after a confirmation.
    mine = await say(h, user, "/my", "Ваши сообщения")
    question = await press(h, user, mine, f"Отозвать № {short}", "Отозвать №")
    kept = await press(h, user, question, "Нет", "остаётся в работе")
    question = await press(h, user, mine, f"Отозвать № {short}", "Отозвать №")
    done = await press(h, user, question, "Да, отозвать", "отозван")
    assert kept and done
    async with h.sessionmaker() as session:
        item = await session.get(Item, item.id)
        assert item.status == Status.withdrawn
        assert await session.scalar(select(func.count(ItemMessage.id))) == 1


async def test_my_continues_a_draft_whose_dialogue_was_replaced(harness):
    h = harness
    user = await citizen_ready(h, 6023)
    await to_settlement(h, user)
    item = await the_item(h)
    # Another dialogue (a reply to a question, say) took the state over and finished.
    from aiogram.fsm.storage.base import StorageKey

    key = StorageKey(bot_id=h.bot.id, chat_id=user, user_id=user)
    await h.dp.storage.set_state(key, None)
    await h.dp.storage.set_data(key, {})
    mine = await say(h, user, "/my", "Ваши сообщения")
    assert "ждёт вашего подтверждения" in mine["text"]
    short = str(int(item.number.split("-")[1]))
    kind = await press(h, user, mine, f"Продолжить № {short}", "Как подать?")
    assert "Продолжаем" in kind["text"]
    offer = await say(h, user, "/start", "Вы не закончили оформлять")
    assert item.number in offer["text"]


# --- albums and floods ------------------------------------------------------------------------------------


def _photo_update(user: int, message_id: int, group: str, caption: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": message_id, "date": 1_780_000_000, "media_group_id": group,
        "chat": {"id": user, "type": "private", "first_name": "Анна"},
        "from": {"id": user, "is_bot": False, "first_name": "Анна"},
        "photo": [{"file_id": f"photo-{message_id}", "file_unique_id": f"u-{message_id}", "width": 90,
                   "height": 90, "file_size": 1000}],
    }
    if caption:
        message["caption"] = caption
    return {"message": message}


async def test_an_album_is_one_draft_with_one_answer(harness):
    h = harness
    user = await citizen_ready(h, 6024)
    after = await h.last_id(user)
    for n in range(3):
        await h.sb.raw_update(_photo_update(user, 80_000 + n, "album-7", "Свалка у реки" if n == 0 else None))
    await expect(h, user, after, "Как подать?")
    for _ in range(100):
        async with h.sessionmaker() as session:
            if await session.scalar(select(func.count(Attachment.id))) == 3:
                break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    async with h.sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 1
        assert await session.scalar(select(func.count(Attachment.id))) == 3
    assert len(await h.sb.bot_messages(user, after=after)) == 1


async def test_a_too_big_first_document_is_refused_and_makes_no_item(harness):
    h = harness
    user = await citizen_ready(h, 6025)
    after = await h.last_id(user)
    h.throttle_clock.value += 5
    await h.sb.raw_update({"message": {
        "message_id": 71_001, "date": 1_780_000_000,
        "chat": {"id": user, "type": "private", "first_name": "Анна"},
        "from": {"id": user, "is_bot": False, "first_name": "Анна"},
        "document": {"file_id": "BIG", "file_unique_id": "big", "file_name": "скан.pdf", "file_size": 21 * 2**20},
    }})
    refused = await expect(h, user, after, "больше 20 МБ")
    assert "Опишите, что случилось" in refused["text"]
    async with h.sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 0
    # With a caption, the text is kept and the dialogue starts; the file alone is refused.
    after = await h.last_id(user)
    h.throttle_clock.value += 5
    await h.sb.raw_update({"message": {
        "message_id": 71_002, "date": 1_780_000_000, "caption": "Скан акта о протечке",
        "chat": {"id": user, "type": "private", "first_name": "Анна"},
        "from": {"id": user, "is_bot": False, "first_name": "Анна"},
        "document": {"file_id": "BIG2", "file_unique_id": "big2", "file_name": "скан.pdf", "file_size": 21 * 2**20},
    }})
    kind = await expect(h, user, after, "Как подать?")
    assert "больше 20 МБ" in kind["text"] and NUMBER.search(kind["text"])
    async with h.sessionmaker() as session:
        assert await session.scalar(select(Item.text)) == "Скан акта о протечке"
        assert await session.scalar(select(func.count(Attachment.id))) == 0


async def test_stop_mid_dialogue_withdraws_the_draft(harness):
    h = harness
    user = await citizen_ready(h, 6026)
    await to_settlement(h, user)
    stopped = await say(h, user, "/stop", "Согласие отозвано")
    assert stopped
    assert (await h.sb.chat(user))["keyboard"] is None
    item = await the_item(h)
    assert item.status == Status.withdrawn
    ask = await say(h, user, "Ещё одно", "согласие")
    assert ask
    async with h.sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 1  # nothing new without consent

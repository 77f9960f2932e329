"""A citizen talks to the real bot over the sandbox Bot API: consent, intake, /my, bad input.

The steps of the intake dialogue itself are in test_citizen_dialogue.py."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from core.staff import add_staff
from db.models import Attachment, Citizen, Item, ItemMessage, Role
from tests.bot.conftest import NUMBER
from tests.bot.dialogue_steps import own_settlements, press

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def count(sessionmaker, model) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count(model.id))))


async def test_consent_then_message_gets_number_and_shows_in_my(harness):
    user = await harness.user(5001)
    greeting = await harness.say(user, "/start")
    assert "Здравствуйте, Анна" in greeting["text"] and "152-ФЗ" in greeting["text"]
    thanks = await harness.press(user, greeting, "Согласен")
    assert "согласие получено" in thanks["text"]
    async with harness.sessionmaker() as session:
        citizen = await session.scalar(select(Citizen).where(Citizen.telegram_id == user))
        assert citizen.consent_at is not None and citizen.consent_version

    await own_settlements(harness)
    reply = await harness.say(user, "Не горит фонарь на ул. Ленина, 5")
    number = NUMBER.search(reply["text"]).group(1)
    mine = await harness.say(user, "/my")
    assert number in mine["text"] and "ждёт вашего подтверждения" in mine["text"]
    # /my leads back into the dialogue of the draft.
    kind = await press(harness, user, mine, "Продолжить", "Как подать?")
    topic = await press(harness, user, kind, "Сообщение", "Похоже, это тема «Энергетика»")
    where = await press(harness, user, topic, "Да", "Где это?")
    address = await press(harness, user, where, "Пропустить", "Уточните адрес")
    files = await press(harness, user, address, "Пропустить", "Если есть фото")
    phone = await press(harness, user, files, "Готово", "Если не хотите оставлять телефон")
    summary = await press(harness, user, phone, "Пропустить", "Проверьте, пожалуйста")
    await press(harness, user, summary, "Подтвердить", "зарегистрировано")
    async with harness.sessionmaker() as session:
        item = await session.scalar(select(Item))
        # A bot сообщение: answer in 10 working days (the seeded policy), set on registration.
        assert item.due_answer_at is not None and item.due_answer_at > item.received_at
    mine = await harness.say(user, "/my")
    assert number in mine["text"] and "зарегистрировано" in mine["text"] and "фонарь" in mine["text"]


async def test_message_before_consent_is_kept_and_becomes_a_draft_on_consent(harness):
    user = await harness.user(5002)
    ask = await harness.say(user, "Прорвало трубу во дворе")
    assert "согласие" in ask["text"]
    harness.throttle_clock.value += 5
    await harness.sb.send_text(user, "Вода заливает подвал")
    await asyncio.sleep(0.3)
    assert await count(harness.sessionmaker, Item) == 0  # nothing stored without consent
    kind = await press(harness, user, ask, "Согласен", "Как подать?")
    assert "согласие получено" in kind["text"] and NUMBER.search(kind["text"])
    async with harness.sessionmaker() as session:
        item = await session.scalar(select(Item))
        # Both messages kept, as one story.
        assert item.text == "Прорвало трубу во дворе\n\nВода заливает подвал" and item.status == "received"


async def test_declined_consent_stores_nothing(harness):
    user = await harness.user(5003)
    ask = await harness.say(user, "Текст с моими данными")
    answer = await harness.press(user, ask, "Не согласен")
    assert "Без согласия" in answer["text"]
    assert await count(harness.sessionmaker, Item) == 0


async def test_ten_thousand_characters_stored_whole(harness):
    user = await harness.user(5004)
    await harness.consent(user)
    text = ("Очень длинное описание проблемы с дорогой. " * 250)[:10_000]
    assert len(text) == 10_000
    reply = await harness.sb.send_text(user, text)
    answer = await harness.sb.wait_bot_message(user, after=reply["message"]["message_id"], timeout=10)
    assert NUMBER.search(answer["text"]) and len(answer["text"]) < 4096
    async with harness.sessionmaker() as session:
        assert (await session.scalar(select(Item.text))) == text


async def test_html_in_citizen_text_is_echoed_as_text(harness):
    user = await harness.user(5005)
    await harness.consent(user)
    evil = "<b>жирный</b> & <script>alert(1)</script>"
    reply = await harness.say(user, evil)
    assert "<b>жирный</b> &" in reply["text"]  # shown literally, not as markup
    bold = [e for e in reply.get("entities") or [] if e["type"] == "bold"]
    assert all("жирный" not in reply["text"][e["offset"]:e["offset"] + e["length"]] for e in bold)
    mine = await harness.say(user, "/my")
    assert "<script>" in mine["text"]


async def test_sticker_and_video_note_get_a_polite_hint(harness):
    user = await harness.user(5006)
    await harness.consent(user)
    hint = await harness.reply_to(user, lambda: harness.sb.send_sticker(user))
    assert "текст, фото, документ" in hint["text"]
    hint = await harness.reply_to(user, lambda: harness.sb.send_video_note(user, b"\x00" * 64))
    assert "текст, фото, документ" in hint["text"]
    assert await count(harness.sessionmaker, Item) == 0


async def test_unknown_command(harness):
    user = await harness.user(5007)
    reply = await harness.say(user, "/frobnicate")
    assert "Такой команды нет" in reply["text"]


async def test_photo_with_caption_then_location_make_one_draft(harness):
    user = await harness.user(5008)
    await harness.consent(user)
    reply = await harness.reply_to(
        user, lambda: harness.sb.send_photo(user, PNG, "yama.png", caption="Яма у школы"))
    assert NUMBER.search(reply["text"]) and "Яма у школы" in reply["text"]
    harness.throttle_clock.value += 5
    # A location while the bot waits for a button joins the draft; the question is asked again.
    reply = await harness.reply_to(user, lambda: harness.sb.send_location(user, 55.63, 34.32))
    assert "Как подать?" in reply["text"]
    async with harness.sessionmaker() as session:
        items = (await session.scalars(select(Item).order_by(Item.id))).all()
        assert len(items) == 1 and items[0].text == "Яма у школы"
        attachment = await session.scalar(select(Attachment))
        assert attachment.kind == "photo" and attachment.telegram_file_id
        assert (items[0].latitude, items[0].longitude) == (55.63, 34.32)


async def test_same_update_twice_makes_one_item(harness):
    user = await harness.user(5009)
    await harness.consent(user)
    update = {
        "update_id": 900_001,
        "message": {
            "message_id": 4242, "date": 1_780_000_000,
            "chat": {"id": user, "type": "private", "first_name": "Анна"},
            "from": {"id": user, "is_bot": False, "first_name": "Анна"},
            "text": "Дублированное сообщение",
        },
    }
    after = await harness.last_id(user)
    await harness.sb.raw_update(update)
    await harness.sb.raw_update(update)
    await harness.sb.wait_bot_message(user, after=after, timeout=10)
    await asyncio.sleep(0.5)  # give a second (wrong) reply the chance to appear
    assert await count(harness.sessionmaker, Item) == 1
    replies = [m for m in await harness.sb.bot_messages(user, after=after)]
    assert len(replies) == 1


async def test_flood_is_throttled_politely_and_nothing_is_lost(harness, sandbox_server):
    user = await harness.user(5010)
    await harness.consent(user)
    # The sandbox's Telegram limits and the bot's throttle read the same test clock.
    sandbox_server.state.limiter.clock = harness.throttle_clock
    await harness.sb.limits(enabled=True)
    before = await harness.sb.stats()
    after = await harness.last_id(user)
    texts = [f"сообщение {n}" for n in range(50)]

    async def stored_texts() -> list[str]:
        # The first message opens a draft; the rest join its text (the dialogue waits for a button).
        async with harness.sessionmaker() as session:
            parts = [p for t in (await session.scalars(select(Item.text))).all() for p in t.split("\n\n")]
            return parts + list((await session.scalars(select(ItemMessage.text))).all())

    # 50 messages in 5 s of the shared test clock; each is handled before the clock moves on,
    # so the bot's throttle and the sandbox's limits see the same moments.
    for n, text in enumerate(texts, start=1):
        harness.throttle_clock.value += 0.1
        await harness.sb.send_text(user, text)
        for _ in range(200):
            stored = await stored_texts()
            if len(stored) >= n:
                break
            await asyncio.sleep(0.01)
    assert sorted(stored) == sorted(texts)
    await harness.sb.wait_bot_message(user, after=after, timeout=10, predicate=lambda m: "очень часто" in m["text"])
    await asyncio.sleep(0.3)  # a second notice, if the bot wrongly sent one, would show by now
    replies = await harness.sb.bot_messages(user, after=after)
    notices = [m for m in replies if "очень часто" in m["text"]]
    assert len(notices) == 1
    assert len(replies) <= 6
    after_stats = await harness.sb.stats()
    assert sum(after_stats["violations"].values()) == sum(before["violations"].values())


async def test_report_refused_for_citizen_allowed_for_curator(harness):
    citizen = await harness.user(5011)
    reply = await harness.say(citizen, "/report")
    assert "только сотрудникам" in reply["text"]
    curator = await harness.user(5012, first_name="Ольга")
    async with harness.sessionmaker() as session, session.begin():
        await add_staff(session, telegram_id=curator, roles=[Role.curator], name="Ольга Куратор")
    reply = await harness.say(curator, "/report")
    assert "За какой период?" in reply["text"]


async def test_language_switch_to_english(harness):
    user = await harness.user(5013)
    choose = await harness.say(user, "/lang")
    switched = await harness.press(user, choose, "English")
    assert "English" in switched["text"]
    reply = await harness.say(user, "/help")
    assert "How to use" in reply["text"]


async def test_english_profile_gets_english(harness):
    user = await harness.user(5014, first_name="John", language_code="en")
    reply = await harness.say(user, "/start")
    assert "Hello, John" in reply["text"]


async def test_forged_button_press_is_refused_without_change(harness):
    user = await harness.user(5015)
    await harness.consent(user)
    mine = await harness.say(user, "/help")
    await harness.sb.press(user, mine["message_id"], "admin:delete:everything", forge=True)
    await asyncio.sleep(0.5)
    answers = await harness.sb.callback_answers(user)
    assert any("больше не действует" in (a.get("text") or "") for a in answers)
    assert await count(harness.sessionmaker, Item) == 0


async def test_document_and_voice_join_one_draft(harness):
    user = await harness.user(5016)
    await harness.consent(user)
    reply = await harness.reply_to(user, lambda: harness.sb.send_document(
        user, b"%PDF-1.4 test", "акт осмотра.pdf", mime_type="application/pdf", caption="Акт по аварии"))
    assert NUMBER.search(reply["text"])
    harness.throttle_clock.value += 5
    reply = await harness.reply_to(
        user, lambda: harness.sb.send_voice(user, b"OggS" + b"\x00" * 100, duration=3))
    assert "Добавили это к вашему сообщению" in reply["text"]
    async with harness.sessionmaker() as session:
        assert await session.scalar(select(func.count(Item.id))) == 1
        files = (await session.scalars(select(Attachment).order_by(Attachment.id))).all()
        assert [(f.kind, f.file_name) for f in files] == [("document", "акт осмотра.pdf"), ("voice", None)]
        assert files[0].mime_type == "application/pdf" and files[1].telegram_file_id


async def test_withdrawn_consent_stops_intake_until_given_again(harness):
    user = await harness.user(5017)
    await harness.consent(user)
    stopped = await harness.say(user, "/stop")
    assert "Согласие отозвано" in stopped["text"]
    ask = await harness.say(user, "Ещё одна проблема")
    assert "согласие" in ask["text"] and await count(harness.sessionmaker, Item) == 0


async def test_a_command_in_a_photo_caption_is_the_command_not_a_new_draft(harness):
    # Plain messages take a short way past the command routers; a caption with a command does not.
    user = await harness.user(5091)
    await harness.consent(user)
    reply = await harness.reply_to(user, lambda: harness.sb.send_photo(user, PNG, "yama.png", caption="/my"))
    assert "У вас пока нет сообщений" in reply["text"]
    assert await count(harness.sessionmaker, Item) == 0


async def test_a_citizens_message_is_handled_without_worker_threads(harness):
    # aiogram runs plain filters (`F.text` …) in a worker thread; the dispatcher runs them on the loop.
    user = await harness.user(5092)
    await harness.consent(user)
    submitted: list[object] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    asyncio.get_running_loop().set_default_executor(Counting(max_workers=2))  # the loop shuts it down
    reply = await harness.say(user, "Яма на дороге у дома 3")
    mine = await harness.say(user, "/my")
    assert NUMBER.search(reply["text"]) and "Ваши сообщения" in mine["text"]
    assert submitted == []

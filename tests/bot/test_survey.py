"""The survey in the citizen's chat, end to end: the tick queues it, the real outbox sender delivers
it to the sandbox, the citizen presses real buttons, the real bot answers."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import select

from bot.callbacks import SurveyCb
from bot.factory import make_bot
from core import lifecycle as lc
from core.actors import Actor
from db.models import Resolution, Staff, Status, Survey
from scheduler.outbox_sender import OutboxSender
from scheduler.ratelimit import RateGate
from tests.bot.conftest import Harness
from tests.reminders.world import CITIZEN, CURATOR, OFFICIAL, World, make_world, msk

STRANGER = 7999


class Story:
    def __init__(self, h: Harness, world: World, sender: OutboxSender) -> None:
        self.h, self.world, self.sender = h, world, sender

    async def flush(self) -> None:
        """Deliver every queued outbox row to the sandbox."""
        while await self.sender.drain_once():
            pass

    async def survey_message(self) -> tuple[dict[str, Any], Survey]:
        """Deliver an answer, let the tick send the survey, return the message the citizen sees."""
        item_id = await self.world.new_item()
        await self.world.deliver(item_id)
        async with self.h.sessionmaker() as session:
            survey = await session.scalar(select(Survey).where(Survey.item_id == item_id))
        self.world.clock.now = survey.send_at
        await self.world.tick()
        await self.flush()
        message = await self.h.sb.wait_bot_message(
            CITIZEN, timeout=10, predicate=lambda m: "Решена ли проблема?" in (m.get("text") or ""))
        return message, survey

    async def survey(self, survey_id: int) -> Survey:
        async with self.h.sessionmaker() as session:
            return await session.get(Survey, survey_id)

    async def alerts(self, chat_id: int, seen: int) -> list[str]:
        """Callback answers after the first `seen`, once the bot has answered one."""
        for _ in range(200):
            answers = await self.h.sb.callback_answers(chat_id)
            if len(answers) > seen:
                return [a.get("text") or "" for a in answers[seen:]]
            await asyncio.sleep(0.05)
        raise TimeoutError("the bot did not answer the press")


@pytest.fixture
async def story(harness: Harness, settings, sandbox_server) -> AsyncIterator[Story]:
    world = await make_world(harness.sessionmaker, settings, msk(2026, 6, 1, 10, 0))
    await world.option("review_mode", "never")
    for user in (CITIZEN, OFFICIAL, CURATOR, STRANGER):
        await harness.user(user)
    bot = make_bot(settings, api_url=sandbox_server.url, dialogue=False)
    ticks = itertools.count(step=10)  # every look at the clock is ten seconds on: no chat limit waits
    sender = OutboxSender(bot, harness.sessionmaker, gate=RateGate(clock=lambda: float(next(ticks))), idle=0)
    yield Story(harness, world, sender)
    await bot.session.close()


def data_of(message: dict[str, Any], text: str) -> str:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return next(b["callback_data"] for row in rows for b in row if b["text"] == text)


async def test_yes_then_a_score_and_a_comment(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    assert data_of(message, "Да") == SurveyCb(action="r", survey_id=survey.id, value="yes").pack()
    pressed = await h.press(CITIZEN, message, "Да")
    assert pressed["text"] == ("№ 2026-000001: решена ли проблема? — Да\nСпасибо! Обращение закрыто.\n\n"
                               "Оцените, пожалуйста, работу исполнителя от 1 до 5:")
    item = await story.world.item(survey.item_id)
    assert (item.status, item.resolution) == (Status.closed, Resolution.satisfied)
    scored = await h.press(CITIZEN, pressed, "4")
    assert scored["text"] == "Ваша оценка: 4 из 5. Спасибо!\n\nХотите что-нибудь добавить?"
    prompt = await h.press(CITIZEN, scored, "Написать комментарий")
    assert prompt["text"] == "Напишите комментарий одним сообщением."
    reply = await h.say(CITIZEN, "Быстро и вежливо")
    assert reply["text"] == "Спасибо, комментарий сохранён."
    stored = await story.survey(survey.id)
    assert (stored.resolved, stored.score, stored.comment) == ("yes", 4, "Быстро и вежливо")
    assert (stored.organisation_id, stored.staff_id) == (story.world.org_id, story.world.official_id)
    # The comment step is over: the next message is the intake's again, not the survey's.
    assert "комментарий" not in (await h.say(CITIZEN, "/help"))["text"]


async def test_a_second_press_is_already_counted(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    await h.press(CITIZEN, message, "Да")
    seen = len(await h.sb.callback_answers(CITIZEN))
    # The tap raced the edit that removed the buttons: the same payload comes again.
    await h.sb.press(CITIZEN, message["message_id"], data_of(message, "Нет"), forge=True)
    assert await story.alerts(CITIZEN, seen) == ["Ваш ответ уже учтён. Спасибо!"]
    assert (await story.survey(survey.id)).resolved == "yes"


async def test_someone_else_is_refused(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    mine = await h.say(STRANGER, "/help")
    await h.sb.press(STRANGER, mine["message_id"], data_of(message, "Нет"), forge=True)
    assert await story.alerts(STRANGER, 0) == ["Этот опрос адресован другому человеку."]
    assert (await story.survey(survey.id)).resolved is None
    assert (await story.world.item(survey.item_id)).status == Status.delivered


async def test_a_press_after_the_item_was_reopened_is_refused_politely(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    async with h.sessionmaker() as session:
        curator = await session.scalar(select(Staff).where(Staff.telegram_id == CURATOR))
    await story.world.on_item(survey.item_id,
                              lambda ctx, item: lc.reopen(ctx, item, Actor.staff(curator.id), "Проверка на месте"))
    seen = len(await h.sb.callback_answers(CITIZEN))
    await h.sb.press(CITIZEN, message["message_id"], data_of(message, "Да"))
    assert await story.alerts(CITIZEN, seen) == [
        ("Опрос по обращению № 2026-000001 больше не действует: по нему уже идёт новая работа "
        "или дан новый ответ. Спасибо!")]
    assert (await story.world.item(survey.item_id)).status == Status.reopened


async def test_no_asks_why_reopens_and_the_official_is_told(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    prompt = await h.press(CITIZEN, message, "Нет")
    assert prompt["text"] == (
        "№ 2026-000001: решена ли проблема? — Нет\n\nНапишите одним сообщением, что осталось нерешённым: "
        "мы возобновим работу по обращению и передадим ваши слова исполнителю.")
    after = await h.last_id(OFFICIAL)
    thanks = await h.say(CITIZEN, "Крыша по-прежнему течёт в подъезде 2")
    assert thanks["text"] == ("Спасибо. Обращение № 2026-000001 возобновлено: исполнитель получит ваше "
                              "пояснение, а мы проследим за ответом.\n\n"
                              "Оцените, пожалуйста, работу исполнителя от 1 до 5:")
    assert (await story.world.item(survey.item_id)).status == Status.reopened
    await story.flush()
    told = await h.sb.wait_bot_message(OFFICIAL, after=after, timeout=10)
    assert told["text"].startswith("Обращение возобновлено: Крыша по-прежнему течёт в подъезде 2")
    assert [b["text"] for row in told["reply_markup"]["inline_keyboard"] for b in row][:1] == ["Принять в работу"]
    scored = await h.press(CITIZEN, thanks, "2")
    assert scored["text"] == "Ваша оценка: 2 из 5. Спасибо!"
    stored = await story.survey(survey.id)
    assert (stored.resolved, stored.comment, stored.score) == ("no", "Крыша по-прежнему течёт в подъезде 2", 2)


async def test_not_now_leaves_the_text_step_and_the_reason_can_come_later(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    prompt = await h.press(CITIZEN, message, "Частично")
    later = await h.press(CITIZEN, prompt, "Не сейчас")
    assert later["text"] == "Хорошо. Пояснение можно написать позже — нажмите кнопку ниже."
    again = await h.press(CITIZEN, later, "Написать пояснение")
    assert again["text"].startswith("Напишите одним сообщением, что осталось нерешённым")
    await h.say(CITIZEN, "Сделали только половину")
    assert (await story.world.item(survey.item_id)).status == Status.reopened
    help_reply = await h.say(CITIZEN, "/help")
    assert "Как пользоваться" in help_reply["text"]


async def test_the_text_step_wants_words_and_waits_a_day(story: Story) -> None:
    h = story.h
    message, survey = await story.survey_message()
    await h.press(CITIZEN, message, "Нет")
    photo = await h.reply_to(CITIZEN, lambda: h.sb.send_photo(CITIZEN, b"\x89PNG" + b"\x00" * 50, "roof.png"))
    assert photo["text"] == "Напишите, пожалуйста, словами — одним текстовым сообщением."
    # Two days pass (the bot's clock is the wall clock): the next text is not taken for the survey.
    state = FSMContext(h.dp.storage, StorageKey(bot_id=h.bot.id, chat_id=CITIZEN, user_id=CITIZEN))
    step = (await state.get_data())["survey_step"]
    await state.update_data({"survey_step": {**step, "at": (datetime.now(UTC) - timedelta(days=2)).isoformat()}})
    late = await h.say(CITIZEN, "Во дворе не горит фонарь")
    assert late["text"] == ("Мы ждали ответ на опрос сутки, и это сообщение к нему не приложено. "
                            "Если это новая проблема, пришлите её ещё раз — она получит свой номер.")
    assert await state.get_state() is None
    assert (await story.world.item(survey.item_id)).status == Status.delivered

"""The satisfaction survey through the real lifecycle and the tick, on a manual clock."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core import lifecycle as lc
from core import surveys
from core.actors import Actor
from core.surveys import Reply
from db.models import Citizen, Reminder, Resolution, Staff, Status, Survey
from tests.reminders.world import CITIZEN, CURATOR, MSK, OFFICIAL, World, msk


async def survey_of(world: World, item_id: int) -> Survey:
    async with world.sessionmaker() as session:
        return (await session.scalars(select(Survey).where(Survey.item_id == item_id)
                                      .order_by(Survey.id.desc()))).first()


async def delivered(world: World, **kwargs) -> int:
    item_id = await world.new_item(**kwargs)
    await world.deliver(item_id)
    assert (await world.item(item_id)).status == Status.delivered
    return item_id


async def sent(world: World) -> tuple[int, Survey]:
    """An item whose survey has reached the citizen."""
    item_id = await delivered(world)
    survey = await survey_of(world, item_id)
    world.clock.now = survey.send_at
    await world.tick()
    survey = await survey_of(world, item_id)
    assert survey.status == "sent"
    return item_id, survey


async def citizen_says(world: World, action, survey_id: int, value, *, citizen: Citizen | None = None):
    citizen = citizen or await world.citizen()
    return await world.act(lambda ctx: action(ctx, survey_id, citizen, value))


async def test_the_survey_waits_the_delay_inside_office_hours(world: World) -> None:
    world.at(2026, 6, 3, 10, 0)  # Wednesday morning: an hour later
    item_id = await delivered(world)
    survey = await survey_of(world, item_id)
    assert survey.send_at == msk(2026, 6, 3, 11, 0) and survey.status == "planned"
    assert (survey.organisation_id, survey.staff_id, survey.citizen_id) == (
        world.org_id, world.official_id, world.citizen_id)
    world.at(2026, 6, 5, 17, 30)  # Friday evening: Monday at opening
    assert (await survey_of(world, await delivered(world))).send_at == msk(2026, 6, 8, 9, 0)
    await world.option("survey_delay_minutes", 0)
    world.at(2026, 6, 11, 18, 0)  # Thursday at closing; 12.06 (Russia Day) is off, then the weekend
    assert (await survey_of(world, await delivered(world))).send_at == msk(2026, 6, 15, 9, 0)


async def test_the_tick_sends_it_with_three_buttons(world: World) -> None:
    item_id, survey = await sent(world)
    rows = [r for r in await world.outbox(CITIZEN) if r.dedupe_key == f"survey:{survey.id}"]
    assert len(rows) == 1
    assert rows[0].payload["text"] == ("Вам направлен ответ на обращение № 2026-000001.\n«Течёт крыша в доме 5»\n\n"
                                      "<b>Решена ли проблема?</b> Ответ — одно нажатие.")
    assert rows[0].payload["reply_markup"] == {"inline_keyboard": [[
        {"text": "Да", "callback_data": f"sv:r:{survey.id}:yes"},
        {"text": "Частично", "callback_data": f"sv:r:{survey.id}:partly"},
        {"text": "Нет", "callback_data": f"sv:r:{survey.id}:no"}]]}
    assert ("survey_expire", (survey.sent_at + timedelta(days=7)).astimezone(MSK).replace(tzinfo=None),
            "pending") in await world.reminders(item_id)
    await world.tick()
    assert len([r for r in await world.outbox(CITIZEN) if r.dedupe_key == f"survey:{survey.id}"]) == 1


async def test_yes_closes_the_item_and_a_second_tap_is_already_counted(world: World) -> None:
    item_id, survey = await sent(world)
    answer = await citizen_says(world, surveys.answer_resolved, survey.id, "yes")
    assert answer.reply is Reply.recorded
    item = await world.item(item_id)
    assert (item.status, item.resolution) == (Status.closed, Resolution.satisfied)
    assert (await citizen_says(world, surveys.answer_resolved, survey.id, "no")).reply is Reply.already
    assert (await citizen_says(world, surveys.give_score, survey.id, 4)).reply is Reply.recorded
    assert (await citizen_says(world, surveys.give_score, survey.id, 1)).reply is Reply.already
    assert (await citizen_says(world, surveys.give_comment, survey.id, "Спасибо, быстро")).reply is Reply.recorded
    stored = await survey_of(world, item_id)
    assert (stored.status, stored.resolved, stored.score, stored.comment) == ("answered", "yes", 4, "Спасибо, быстро")
    assert (stored.organisation_id, stored.staff_id) == (world.org_id, world.official_id)
    # A week later nothing changes: the citizen answered.
    world.clock.advance(days=8)
    await world.tick()
    assert (await world.item(item_id)).resolution == Resolution.satisfied


async def test_someone_else_cannot_answer(world: World) -> None:
    item_id, survey = await sent(world)
    async with world.sessionmaker() as session, session.begin():
        stranger = Citizen(telegram_id=7999, first_name="Пётр")
        session.add(stranger)
    for action, value in ((surveys.answer_resolved, "yes"), (surveys.give_score, 5), (surveys.give_reason, "x")):
        assert (await citizen_says(world, action, survey.id, value, citizen=stranger)).reply is Reply.not_yours
    assert (await world.item(item_id)).status == Status.delivered
    assert (await survey_of(world, item_id)).resolved is None
    assert (await citizen_says(world, surveys.answer_resolved, 10_000, "yes")).reply is Reply.unknown
    assert (await citizen_says(world, surveys.answer_resolved, survey.id, "maybe")).reply is Reply.unknown


async def test_no_asks_why_and_the_reason_reopens_the_item(world: World) -> None:
    item_id, survey = await sent(world)
    assert (await citizen_says(world, surveys.answer_resolved, survey.id, "no")).reply is Reply.recorded
    assert (await world.item(item_id)).status == Status.delivered  # waits for the words
    assert (await citizen_says(world, surveys.give_reason, survey.id, "  ")).reply is Reply.unknown
    answer = await citizen_says(world, surveys.give_reason, survey.id, "Крыша снова течёт <после дождя>")
    assert answer.reply is Reply.recorded
    item = await world.item(item_id)
    assert item.status == Status.reopened and item.resolution is None
    told = (await world.texts(OFFICIAL))[-1]
    assert told.startswith("<b>Обращение возобновлено</b>: Крыша снова течёт &lt;после дождя&gt;")
    assert "Крыша снова течёт &lt;после дождя&gt;" in (await world.texts(CURATOR))[-1]
    assert (await citizen_says(world, surveys.give_reason, survey.id, "ещё")).reply is Reply.already
    assert (await citizen_says(world, surveys.give_score, survey.id, 2)).reply is Reply.recorded
    # The organisation owes an answer again: the reminders are back.
    assert any(k == "overdue_daily" and s == "pending" for k, _d, s in await world.reminders(item_id))


async def test_a_survey_after_the_item_was_reopened_is_refused(world: World) -> None:
    item_id, survey = await sent(world)
    async with world.sessionmaker() as session:
        curator = await session.scalar(select(Staff).where(Staff.telegram_id == CURATOR))
    await world.on_item(item_id, lambda ctx, item: lc.reopen(ctx, item, Actor.staff(curator.id), "Проверка"))
    answer = await citizen_says(world, surveys.answer_resolved, survey.id, "yes")
    assert answer.reply is Reply.stale and answer.item.number == "2026-000001"
    assert (await world.item(item_id)).status == Status.reopened


async def test_no_reply_in_seven_days_closes_automatically(world: World) -> None:
    item_id, survey = await sent(world)
    world.clock.now = survey.sent_at + timedelta(days=7) - timedelta(minutes=1)
    await world.tick()
    assert (await world.item(item_id)).status == Status.delivered
    world.clock.advance(minutes=1)
    await world.tick()
    item = await world.item(item_id)
    assert (item.status, item.resolution) == (Status.closed, Resolution.auto)
    assert (await survey_of(world, item_id)).status == "expired"
    assert (await citizen_says(world, surveys.answer_resolved, survey.id, "yes")).reply is Reply.stale


async def test_a_no_never_explained_closes_as_not_resolved(world: World) -> None:
    item_id, survey = await sent(world)
    await citizen_says(world, surveys.answer_resolved, survey.id, "partly")
    world.clock.now = survey.sent_at + timedelta(days=7)
    await world.tick()
    assert (await world.item(item_id)).resolution == Resolution.not_resolved


async def test_a_citizen_without_telegram_gets_no_survey_and_the_item_closes_in_a_week(world: World) -> None:
    async with world.sessionmaker() as session, session.begin():
        by_phone = Citizen(telegram_id=None, full_name="Сидоров", phone="+79990000000")
        session.add(by_phone)
    item_id = await delivered(world, citizen_id=by_phone.id)
    survey = await survey_of(world, item_id)
    world.clock.now = survey.send_at
    await world.tick()
    assert (await survey_of(world, item_id)).status == "skipped"
    assert [r for r in await world.outbox() if (r.dedupe_key or "").startswith("survey:")] == []
    world.clock.advance(days=7)
    await world.tick()
    assert (await world.item(item_id)).resolution == Resolution.auto


async def test_a_reopened_item_closed_again_is_asked_again_later(world: World) -> None:
    item_id, survey = await sent(world)
    await citizen_says(world, surveys.answer_resolved, survey.id, "no")
    await citizen_says(world, surveys.give_reason, survey.id, "Течёт")
    world.clock.advance(days=2)
    await world.deliver(item_id)  # answered again
    second = await survey_of(world, item_id)
    assert second.id != survey.id and second.status == "planned"
    world.clock.now = second.send_at
    await world.tick()
    await citizen_says(world, surveys.answer_resolved, second.id, "yes")
    closed_at = (await world.item(item_id)).closed_at
    repeat = await survey_of(world, item_id)
    assert repeat.id != second.id and repeat.status == "planned"
    assert repeat.send_at == world.clock.now + timedelta(days=21)  # a Wednesday at the same hour
    assert repeat.send_at - closed_at == timedelta(days=21)
    world.clock.now = repeat.send_at
    await world.tick()
    text = next(r for r in await world.outbox(CITIZEN) if r.dedupe_key == f"survey:{repeat.id}").payload["text"]
    assert text.startswith("Некоторое время назад мы закрыли ваше обращение № 2026-000001.")
    assert text.endswith("<b>Проблема решена?</b> Ответ — одно нажатие.")
    await citizen_says(world, surveys.answer_resolved, repeat.id, "no")
    await citizen_says(world, surveys.give_reason, repeat.id, "Опять течёт")
    assert (await world.item(item_id)).status == Status.reopened


async def test_the_repeat_can_be_turned_off(world: World) -> None:
    await world.option("survey_repeat_days", 0)
    item_id, survey = await sent(world)
    await citizen_says(world, surveys.answer_resolved, survey.id, "no")
    await citizen_says(world, surveys.give_reason, survey.id, "Течёт")
    await world.deliver(item_id)
    second = await survey_of(world, item_id)
    world.clock.now = second.send_at
    await world.tick()
    await citizen_says(world, surveys.answer_resolved, second.id, "yes")
    assert (await survey_of(world, item_id)).id == second.id


async def test_a_new_delivery_replaces_an_unanswered_survey(world: World) -> None:
    item_id, survey = await sent(world)
    async with world.sessionmaker() as session:
        curator = await session.scalar(select(Staff).where(Staff.telegram_id == CURATOR))
    await world.on_item(item_id, lambda ctx, item: lc.reopen(ctx, item, Actor.staff(curator.id), "Не то"))
    world.clock.advance(days=1)
    await world.deliver(item_id)
    assert (await survey_of(world, item_id)).id != survey.id
    async with world.sessionmaker() as session:
        assert (await session.get(Survey, survey.id)).status == "expired"
    # The first survey's week ends while the new one waits: the item is not closed by it.
    world.clock.now = survey.sent_at + timedelta(days=7)
    await world.tick()
    assert (await world.item(item_id)).status == Status.delivered


async def test_two_deliveries_before_one_opening_share_the_moment(world: World) -> None:
    world.at(2026, 6, 5, 19, 0)  # Friday evening: both surveys would go on Monday 09:00
    item_id = await delivered(world)
    async with world.sessionmaker() as session:
        curator = await session.scalar(select(Staff).where(Staff.telegram_id == CURATOR))
    await world.on_item(item_id, lambda ctx, item: lc.reopen(ctx, item, Actor.staff(curator.id), "Не то"))
    world.clock.advance(minutes=30)
    await world.deliver(item_id)
    latest = await survey_of(world, item_id)
    async with world.sessionmaker() as session:
        rows = (await session.scalars(select(Reminder).where(Reminder.item_id == item_id,
                                                             Reminder.kind == "survey"))).all()
    assert [(r.data, r.due_at) for r in rows] == [({"survey_id": latest.id}, msk(2026, 6, 8, 9, 0))]
    world.at(2026, 6, 8, 9, 0)
    await world.tick()
    assert (await survey_of(world, item_id)).status == "sent"
    assert len([r for r in await world.outbox(CITIZEN) if (r.dedupe_key or "").startswith("survey:")]) == 1

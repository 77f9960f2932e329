"""The centre's own lifecycle actions (used by the admin): a deadline by hand, an extension without a
request, the answer on an organisation's behalf, closing, reopening and merging duplicates — each
with its status, history, reminders and outbox rows."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import lifecycle as lc
from core.actors import SYSTEM, Actor
from core.lifecycle import TransitionError
from core.options import set_option
from db.models import Citizen, ItemMessage, Reminder, Resolution, Status, Survey
from tests.lifecycle import test_lifecycle as base
from tests.lifecycle.test_lifecycle import NOW, World, registered

w = base.w  # the same world of organisations, officials and a citizen


async def events(w: World, item) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    await w.session.flush()
    return [(e.action, e.old_value, e.new_value, e.comment, e.actor_staff_id)
            for e in await lc.history(w.session, item.id)]


async def reminders(w: World, item) -> list[Reminder]:
    await w.session.flush()
    return list((await w.session.scalars(
        select(Reminder).where(Reminder.item_id == item.id, Reminder.status == "pending")
        .order_by(Reminder.due_at))).all())


async def assigned(w: World, **kwargs):
    item = await registered(w, **kwargs)
    await lc.assign(await w.ctx(), item, w.zhkh.id, Actor.staff(w.curator.id))
    return item


def test_only_the_centre_holds_the_centre_actions(w: World) -> None:
    from db.models import Item

    item = Item(number="2026-999999", channel="bot", status=Status.in_work, organisation_id=w.zhkh.id)
    assert lc.CENTRE_ACTIONS <= lc.allowed_actions(w.curator, item)
    assert not lc.CENTRE_ACTIONS & lc.allowed_actions(w.recipient, item)


async def test_a_deadline_set_by_hand_moves_the_reminders_and_is_told(w: World) -> None:
    item = await assigned(w)
    ctx = await w.ctx()
    old_due = item.due_answer_at
    old_plan = [r.due_at for r in await reminders(w, item)]
    later = old_due + timedelta(days=10)
    await lc.set_deadline(ctx, item, w.curator, later, "Ждём ответа подрядчика")
    assert item.due_answer_at == later
    deadline = [e for e in await events(w, item) if e[0] == "deadline" and e[3] and e[3].startswith("by hand")]
    assert len(deadline) == 1 and deadline[0][4] == w.curator.id
    assert deadline[0][1] == old_due.isoformat() and deadline[0][2] == later.isoformat()
    assert "Ждём ответа подрядчика" in deadline[0][3]
    new_plan = [r.due_at for r in await reminders(w, item)]
    assert new_plan and new_plan != old_plan and max(new_plan) > max(old_plan)
    assert "изменён МЦУ" in (await w.texts(9002))[-1] and "Ждём ответа подрядчика" in (await w.texts(9002))[-1]
    assert "Срок ответа на ваше обращение" in (await w.texts(5001))[-1]
    # Earlier again: the officials learn it; the citizen is not told of a shorter term.
    told = len(await w.texts(5001))
    await lc.set_deadline(ctx, item, w.curator, old_due, "Подрядчик ответил")
    assert len(await w.texts(5001)) == told and "Подрядчик ответил" in (await w.texts(9002))[-1]


async def test_a_deadline_by_hand_is_refused_without_a_reason_in_the_past_or_after_the_answer(w: World) -> None:
    item = await assigned(w)
    ctx = await w.ctx()
    with pytest.raises(TransitionError, match="Нужен текст"):
        await lc.set_deadline(ctx, item, w.curator, w.now + timedelta(days=1), " ")
    with pytest.raises(TransitionError, match="позже текущего момента"):
        await lc.set_deadline(ctx, item, w.curator, w.now - timedelta(hours=1), "причина")
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    await lc.answer(await w.ctx(), item, w.recipient, "Готово")
    with pytest.raises(TransitionError, match="статусе «ответ направлен заявителю»"):
        await lc.set_deadline(await w.ctx(), item, w.curator, w.now + timedelta(days=1), "причина")


async def test_the_centre_extends_once_and_settles_a_pending_request(w: World) -> None:
    item = await assigned(w)
    ctx = await w.ctx()
    await lc.request_extension(ctx, item, w.recipient, "Нужна экспертиза")
    due = item.due_answer_at
    await lc.extend_by_centre(ctx, item, w.curator, "Экспертиза займёт месяц")
    assert item.extended and item.extension_requested_at is None
    assert item.due_answer_at == ctx.deadlines.calendar.add(due, "30d")
    assert "продлён" in (await w.texts(5001))[-1]
    assert "МЦУ продлил срок" in (await w.texts(9002))[-1]
    note = [e for e in await events(w, item) if e[0] == "deadline"][-1]
    assert "Экспертиза займёт месяц" in note[3] and note[4] == w.curator.id
    with pytest.raises(TransitionError, match="один раз"):
        await lc.extend_by_centre(ctx, item, w.curator, "Ещё")


async def test_a_message_outside_59_fz_cannot_be_extended(w: World) -> None:
    item = await assigned(w, kind="message")
    with pytest.raises(TransitionError, match="не предусмотрено"):
        await lc.extend_by_centre(await w.ctx(), item, w.curator, "причина")


async def test_an_answer_on_behalf_goes_to_the_citizen_names_the_author_and_tells_the_organisation(w: World) -> None:
    item = await assigned(w)
    ctx = await w.ctx()
    message = await lc.answer_on_behalf(ctx, item, w.curator, "Отвечаем за отдел: крышу починят в марте")
    assert item.status == Status.delivered and item.answered_at == w.now and item.first_reaction_at == w.now
    assert item.assignee_id is None  # the organisation's work is not taken over
    assert message.kind == "answer" and message.author_staff_id == w.curator.id
    history = await events(w, item)
    assert ("answer_on_behalf", None, str(w.zhkh.id), None, w.curator.id) in history
    statuses = [(e[1], e[2]) for e in history if e[0] == "status"]
    assert statuses[-3:] == [("assigned", "in_work"), ("in_work", "answered"), ("answered", "delivered")]
    assert "крышу починят в марте" in (await w.texts(5001))[-1]
    assert any("за вашу организацию" in t for t in await w.texts(9002))
    assert await w.session.scalar(select(Survey.staff_id).where(Survey.item_id == item.id)) == w.curator.id
    assert await reminders(w, item) == [] or all(r.kind == "survey" for r in await reminders(w, item))


async def test_an_answer_on_behalf_needs_an_item_in_work(w: World) -> None:
    item = await registered(w)
    with pytest.raises(TransitionError, match="статусе «зарегистрировано»"):
        await lc.answer_on_behalf(await w.ctx(), item, w.curator, "Ответ")


async def test_closing_from_the_admin_plans_the_repeat_survey_after_a_reopening(w: World) -> None:
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    item = await assigned(w)
    ctx = await w.ctx()
    await lc.answer(ctx, item, w.recipient, "Готово")
    with pytest.raises(TransitionError, match="Выберите итог"):
        await lc.close_by_staff(ctx, item, w.curator, Resolution.auto)
    await lc.close_by_staff(ctx, item, w.curator, Resolution.satisfied, "Заявитель подтвердил по телефону")
    assert item.status == Status.closed and item.resolution == Resolution.satisfied
    assert ("resolution", None, "satisfied", "Заявитель подтвердил по телефону", w.curator.id) in await events(w, item)
    await w.session.flush()
    repeat = select(Reminder).where(Reminder.item_id == item.id, Reminder.kind == "survey_repeat")
    assert (await w.session.scalars(repeat)).all() == []  # never reopened: no second survey

    w.now += timedelta(days=1)
    await lc.reopen(await w.ctx(), item, Actor.staff(w.curator.id), "Заявитель позвонил: снова течёт")
    await lc.answer(await w.ctx(), item, w.recipient, "Починили ещё раз")
    await lc.close_by_staff(await w.ctx(), item, w.curator, Resolution.postponed)
    await w.session.flush()
    planned = (await w.session.scalars(repeat)).all()
    assert len(planned) == 1 and planned[0].due_at >= w.now + timedelta(days=21)


async def test_the_centre_reopening_tells_the_citizen_and_not_itself(w: World) -> None:
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    item = await assigned(w)
    await lc.answer(await w.ctx(), item, w.recipient, "Готово")
    curator_before = len(await w.texts(9001))
    await lc.reopen(await w.ctx(), item, Actor.staff(w.curator.id), "Ответ не по существу")
    assert item.status == Status.reopened
    assert "возобновлена" in (await w.texts(5001))[-1]
    assert len(await w.texts(9001)) == curator_before  # the curator did it: no message to themselves
    assert "Ответ не по существу" in (await w.texts(9002))[-1]
    reason = await w.session.scalar(select(ItemMessage).where(ItemMessage.item_id == item.id,
                                                              ItemMessage.kind == "reopen"))
    assert reason.author_staff_id == w.curator.id and reason.author_citizen_id is None


async def test_merging_a_duplicate_links_closes_and_tells(w: World) -> None:
    main = await assigned(w)
    other = Citizen(telegram_id=5009, first_name="Борис", consent_at=NOW)
    w.session.add(other)
    await w.session.flush()
    duplicate = await registered(w, citizen=other, text="Та же крыша, дом 5")
    await lc.assign(await w.ctx(), duplicate, w.zhkh.id, SYSTEM)
    assert await reminders(w, duplicate)
    await lc.merge_duplicate(await w.ctx(), duplicate, main, w.curator, "Одна и та же крыша")
    assert duplicate.status == Status.closed and duplicate.resolution == lc.DUPLICATE
    assert duplicate.repeat_of_id == main.id and duplicate.closed_at == w.now
    assert ("merged", None, main.number, "Одна и та же крыша", w.curator.id) in await events(w, duplicate)
    assert ("merged_duplicate", None, duplicate.number, "Одна и та же крыша", w.curator.id) in await events(w, main)
    assert main.status == Status.assigned  # the main item goes on as it was
    told = (await w.texts(5009))[-1]
    assert duplicate.number in told and main.number in told
    assert any("закрыто как дубликат" in t for t in await w.texts(9002))
    assert await reminders(w, duplicate) == []
    with pytest.raises(TransitionError, match="дубликат"):
        await lc.reopen(await w.ctx(), duplicate, Actor.staff(w.curator.id), "Ошибка")


async def test_merging_is_refused_for_itself_a_closed_duplicate_or_a_merged_main(w: World) -> None:
    main = await assigned(w)
    first = await registered(w, text="Первый дубль")
    second = await registered(w, text="Второй дубль")
    ctx = await w.ctx()
    with pytest.raises(TransitionError, match="с самим собой"):
        await lc.merge_duplicate(ctx, main, main, w.curator)
    await lc.merge_duplicate(ctx, first, main, w.curator)
    with pytest.raises(TransitionError, match="статусе «закрыто»"):
        await lc.merge_duplicate(ctx, first, main, w.curator)
    with pytest.raises(TransitionError, match="не может быть основным"):
        await lc.merge_duplicate(ctx, second, first, w.curator)

"""Reminders and escalation through the real lifecycle and the tick, on a manual clock."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from core import lifecycle as lc
from core.staff import add_staff
from db.models import OutboxMessage, Reminder, Role
from tests.reminders.world import CITIZEN, CURATOR, HEAD, OFFICIAL, World, msk


async def keyed(world: World, prefix: str, chat_id: int | None = None) -> list[str]:
    return [row.payload["text"] for row in await world.outbox(chat_id)
            if row.dedupe_key and row.dedupe_key.startswith(prefix)]


async def test_assignment_plans_the_steps(world: World) -> None:
    item_id = await world.new_item()  # 59-ФЗ, Thursday 30.04 15:00 → due Monday 01.06 15:00
    assert (await world.item(item_id)).due_answer_at == msk(2026, 6, 1, 15, 0)
    assert await world.reminders(item_id) == [
        ("half", datetime(2026, 5, 18, 15, 0), "pending"),
        ("day_before", datetime(2026, 5, 29, 9, 0), "pending"),
        ("due_morning", datetime(2026, 6, 1, 9, 0), "pending"),
        ("overdue_daily", datetime(2026, 6, 1, 15, 0), "pending"),
    ]


async def test_a_clock_jump_gives_one_truthful_message_then_the_deadline_day(world: World) -> None:
    item_id = await world.new_item()
    world.at(2026, 5, 29, 10, 0)  # the process was down through «half»: both it and «day_before» are due
    stats = await world.tick()
    assert (stats.claimed, stats.done) == (2, 2)
    official = await keyed(world, "rem:", OFFICIAL)
    assert official == [("⏰ <b>Напоминание о сроке по № 2026-000001</b>\n"
                        "Ответ нужен до 01.06.2026 15:00 (осталось 3 дн.).\n"
                        "Исполнитель: Отдел ЖКХ и благоустройства")]
    # The curator triages bot items: the early warning of the responsible officer.
    assert await keyed(world, "rem:", CURATOR) == [
        ("⚠️ <b>Контроль срока по № 2026-000001</b>\n"
        "Ответ исполнителя нужен до 01.06.2026 15:00 (осталось 3 дн.), его пока нет.\n"
        "Исполнитель: Отдел ЖКХ и благоустройства")]
    assert await world.outbox(HEAD) == []
    reminder = (await world.outbox(OFFICIAL))[-1]
    assert reminder.payload["reply_markup"] == {
        "inline_keyboard": [[{"text": "Открыть карточку", "callback_data": f"it:card:{item_id}"}]]}
    count = len(await world.outbox())
    assert (await world.tick()).claimed == 0 and len(await world.outbox()) == count  # nothing twice

    world.at(2026, 6, 1, 9, 30)
    await world.tick()
    assert (await keyed(world, "rem:", OFFICIAL))[-1] == (
        "⏰ <b>Сегодня срок ответа по № 2026-000001</b>\nОтвет нужен до 15:00 (осталось 5 ч.).\n"
        "Исполнитель: Отдел ЖКХ и благоустройства")


async def test_overdue_repeats_each_working_morning_and_escalates_once_a_day(world: World) -> None:
    item_id = await world.new_item()
    world.at(2026, 6, 1, 15, 0)
    await world.tick()
    assert await keyed(world, "ovd:", OFFICIAL) == [
        ("❗ <b>Просрочен ответ по № 2026-000001</b>\nСрок был 01.06.2026 15:00, просрочено.\n"
        "Исполнитель: Отдел ЖКХ и благоустройства")]
    escalation = ("❗ <b>Просрочено: № 2026-000001</b>\nИсполнитель: Отдел ЖКХ и благоустройства\n"
                  "Срок был 01.06.2026 15:00, просрочено.")
    assert await keyed(world, "esc:", HEAD) == [escalation]
    assert await keyed(world, "esc:", CURATOR) == [escalation]
    assert ("overdue_daily", datetime(2026, 6, 2, 9, 0), "pending") in await world.reminders(item_id)

    # A second overdue row the same day (the plan was recomputed) tells nobody again.
    async with world.sessionmaker() as session, session.begin():
        session.add(Reminder(item_id=item_id, kind="overdue_daily", due_at=msk(2026, 6, 1, 16, 0)))
    world.at(2026, 6, 1, 16, 0)
    assert (await world.tick()).done == 1
    assert len(await keyed(world, "esc:")) == 2 and len(await keyed(world, "ovd:")) == 1

    world.at(2026, 6, 2, 9, 0)
    await world.tick()
    assert (await keyed(world, "ovd:", OFFICIAL))[-1].startswith(
        "❗ <b>Просрочен ответ по № 2026-000001</b>\nСрок был 01.06.2026 15:00, просрочено на 1 дн.")
    assert len(await keyed(world, "esc:", HEAD)) == 2 and len(await keyed(world, "esc:", CURATOR)) == 2
    # Friday's row plans Monday: the weekend is skipped.
    world.at(2026, 6, 5, 9, 0)
    await world.tick()
    assert [r for r in await world.reminders(item_id) if r[2] == "pending"] == [
        ("overdue_daily", datetime(2026, 6, 8, 9, 0), "pending")]


async def test_answering_stops_the_reminders(world: World) -> None:
    item_id = await world.new_item()
    await world.deliver(item_id)  # review is on by default: the answer waits for the centre
    assert {status for _k, _d, status in await world.reminders(item_id)} == {"cancelled"}
    before = len(await world.outbox())
    # A row that slipped in is found stale when due and cancelled, telling nobody.
    async with world.sessionmaker() as session, session.begin():
        session.add(Reminder(item_id=item_id, kind="due_morning", due_at=msk(2026, 6, 1, 9, 30)))
    world.at(2026, 6, 3, 10, 0)
    stats = await world.tick()
    assert stats.cancelled == 1
    assert [r for r in await world.outbox() if r.dedupe_key and r.dedupe_key[:4] in ("rem:", "ovd:", "esc:")] == []
    assert len(await world.outbox()) >= before


async def test_rework_plans_again_from_now(world: World) -> None:
    item_id = await world.new_item()
    world.at(2026, 5, 29, 12, 0)
    await world.deliver(item_id)
    async with world.sessionmaker() as session:
        curator = await session.scalar(select(lc.Staff).where(lc.Staff.telegram_id == CURATOR))
    await world.on_item(item_id, lambda ctx, item: lc.return_for_rework(ctx, item, curator, "Нет фото"))
    pending = [r for r in await world.reminders(item_id) if r[2] == "pending"]
    assert pending == [("due_morning", datetime(2026, 6, 1, 9, 0), "pending"),
                       ("overdue_daily", datetime(2026, 6, 1, 15, 0), "pending")]


async def test_head_chat_option_and_an_official_by_email(world: World) -> None:
    await world.option("head_chat_id", "-100777")
    async with world.sessionmaker() as session, session.begin():
        mailer, _ = await add_staff(session, telegram_id=None, roles=[Role.recipient], name="Петров",
                                    email="petrov@example.test")
        mailer.organisation_id = world.org_id
    item_id = await world.new_item()
    world.at(2026, 6, 1, 15, 5)
    await world.tick()
    assert len(await keyed(world, "esc:", -100777)) == 1
    assert await keyed(world, "esc:", HEAD) == []  # the head reads the group chat
    assert len(await keyed(world, "esc:", CURATOR)) == 1  # no curator chat set: privately
    letters = [r for r in await world.outbox(email="petrov@example.test") if (r.dedupe_key or "").startswith("ovd:")]
    assert len(letters) == 1
    assert letters[0].payload["subject"] == "МЦУ: срок ответа по № 2026-000001"
    assert letters[0].payload["text"] == (
        "❗ Просрочен ответ по № 2026-000001\nСрок был 01.06.2026 15:00, просрочено.\n"
        "Исполнитель: Отдел ЖКХ и благоустройства\n\n"
        f"Карточка в системе МЦУ: {world.settings.admin_base_url}/items/{item_id}")


async def test_waiting_for_the_citizen_stops_the_clock_and_the_reminders(world: World) -> None:
    item_id = await world.new_item()
    official = await world.official()
    world.at(2026, 5, 28, 10, 0)
    await world.on_item(item_id, lambda ctx, item: lc.ask_citizen(ctx, item, official, "Какой подъезд?"))
    world.at(2026, 6, 1, 16, 0)  # past the old deadline, but the clock stands
    stats = await world.tick()
    assert stats.done == 0 and stats.cancelled >= 1
    assert await keyed(world, "ovd:") == [] and await keyed(world, "esc:") == []
    citizen = await world.citizen()
    await world.on_item(item_id, lambda ctx, item: lc.citizen_reply(ctx, item, citizen, "Второй"))
    item = await world.item(item_id)
    # Shifted by the pause (4 days 6 hours) to Friday 21:00; the overdue notice waits for Monday.
    assert item.due_answer_at == msk(2026, 6, 5, 21, 0)
    pending = [r for r in await world.reminders(item_id) if r[2] == "pending"]
    assert pending == [("day_before", datetime(2026, 6, 4, 9, 0), "pending"),
                       ("due_morning", datetime(2026, 6, 5, 9, 0), "pending"),
                       ("overdue_daily", datetime(2026, 6, 8, 9, 0), "pending")]


async def test_an_organisation_without_officials_is_reminded_by_its_email(world: World) -> None:
    async with world.sessionmaker() as session, session.begin():
        official = await session.get(lc.Staff, world.official_id)
        official.is_active = False
    await world.new_item()
    world.at(2026, 6, 1, 15, 0)
    await world.tick()
    async with world.sessionmaker() as session:
        to_org = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.email == "zhkh@example.test", OutboxMessage.dedupe_key.like("ovd:%")))
    assert to_org == 1
    assert CITIZEN not in {r.chat_id for r in await world.outbox() if r.dedupe_key}


async def test_one_person_in_two_roles_is_told_once(world: World) -> None:
    # A small district: the curator also answers for the organisation.
    async with world.sessionmaker() as session, session.begin():
        curator = await session.scalar(select(lc.Staff).where(lc.Staff.telegram_id == CURATOR))
        curator.organisation_id = world.org_id
        await add_staff(session, telegram_id=CURATOR, roles=[Role.recipient])
    await world.new_item()
    world.at(2026, 5, 29, 10, 0)
    await world.tick()
    assert [t.split("\n")[0] for t in await keyed(world, "rem:", CURATOR)] == [
        "⏰ <b>Напоминание о сроке по № 2026-000001</b>"]  # not also «Контроль срока»
    world.at(2026, 6, 1, 15, 0)
    await world.tick()
    assert len(await keyed(world, "ovd:", CURATOR)) == 1 and await keyed(world, "esc:", CURATOR) == []
    assert len(await keyed(world, "esc:", HEAD)) == 1

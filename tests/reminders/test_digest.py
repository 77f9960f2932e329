"""The morning digest: on working days at the option's time, once, grouped, cut when long."""
from __future__ import annotations

from datetime import datetime

from core.calendar import WorkingCalendar
from core.digest import Section, render
from core.i18n import gettext_for
from tests.reminders.world import CURATOR, HEAD, MSK, World, msk


async def digests(world: World, chat_id: int) -> list[str]:
    return [r.payload["text"] for r in await world.outbox(chat_id) if (r.dedupe_key or "").startswith("digest:")]


async def test_digest_groups_overdue_and_due_today_by_organisation(world: World) -> None:
    overdue = [await world.new_item() for _ in range(7)]  # 30.04 15:00 → due 01.06 15:00
    unrouted = await world.new_item(assign=False)
    world.at(2026, 5, 3, 12, 0)  # a Sunday: due Tuesday 02.06 at 12:00
    today = await world.new_item(organisation_id=world.other_org_id)
    world.at(2026, 5, 4, 12, 0)  # due 03.06: not in Tuesday's digest
    await world.new_item()
    world.at(2026, 6, 2, 8, 59)
    await world.tick()
    assert await digests(world, HEAD) == []  # not yet time
    world.at(2026, 6, 2, 9, 0)
    await world.tick()
    numbers = {i: (await world.item(i)).number for i in [*overdue, unrouted, today]}
    expected = "\n".join([
        "📋 <b>Сводка МЦУ на 02.06.2026</b>",
        "",
        "<b>Просрочено: 8</b>",
        "<i>Отдел ЖКХ и благоустройства</i> (7): "
        + ", ".join(f"№ {numbers[i]} (1 дн.)" for i in overdue[:5]) + ", и ещё 2",
        f"<i>не направлено исполнителю</i> (1): № {numbers[unrouted]} (1 дн.)",
        "",
        "<b>Срок сегодня: 1</b>",
        f"<i>Отдел образования</i> (1): № {numbers[today]} (до 12:00)",
    ])
    assert await digests(world, HEAD) == [expected]
    assert await digests(world, CURATOR) == [expected]
    await world.tick()
    assert len(await digests(world, HEAD)) == 1  # once a day
    assert ("digest", datetime(2026, 6, 3, 9, 0), "pending") in await world.reminders()


async def test_digest_only_on_working_days_and_follows_the_option(world: World) -> None:
    await world.new_item()
    world.at(2026, 6, 5, 9, 0)  # Friday: planned for 09:00
    await world.tick()
    assert len(await digests(world, HEAD)) == 0  # the first tick plans the first digest: for Monday
    await world.option("digest_time", "10:30")
    world.at(2026, 6, 6, 10, 30)  # Saturday
    await world.tick()
    assert ("digest", datetime(2026, 6, 8, 10, 30), "pending") in await world.reminders()
    world.at(2026, 6, 8, 10, 29)
    await world.tick()
    assert await digests(world, HEAD) == []
    world.at(2026, 6, 8, 10, 30)
    await world.tick()
    assert len(await digests(world, HEAD)) == 1
    assert (await digests(world, HEAD))[0].startswith("📋 <b>Сводка МЦУ на 08.06.2026</b>\n\n<b>Просрочено: 1</b>")


async def test_nothing_to_report_sends_nothing_and_plans_the_next(world: World) -> None:
    world.at(2026, 6, 2, 8, 0)
    await world.tick()
    world.at(2026, 6, 2, 9, 0)
    await world.tick()
    assert await digests(world, HEAD) == [] and await digests(world, CURATOR) == []
    assert [r for r in await world.reminders() if r[2] == "pending"] == [
        ("digest", datetime(2026, 6, 3, 9, 0), "pending")]


def test_long_lists_are_cut() -> None:
    calendar = WorkingCalendar(MSK)
    now = msk(2026, 6, 2, 9, 0)
    due = msk(2026, 6, 1, 15, 0)
    overdue = Section()
    names = {}
    for org in range(1, 12):
        names[org] = f"Организация {org:02d} " + "с очень длинным названием " * 5
        overdue.by_org[org] = 20 - org
        overdue.total += 20 - org
        overdue.numbers[org] = [(f"2026-{org:03d}{n:03d}", due) for n in range(5)]
    text = render(overdue, Section(), names, now, calendar, gettext_for("ru"))
    assert len(text) < 4096
    lines = text.split("\n")
    assert lines[2] == f"<b>Просрочено: {overdue.total}</b>"
    assert lines[3].startswith("<i>" + names[1][:59].rstrip() + "…</i> (19): № 2026-001000 (1 дн.), ")
    assert lines[3].endswith(", и ещё 14")
    assert lines[-1] == "и ещё 30 в других организациях (3)"  # 11, 10 and 9 items

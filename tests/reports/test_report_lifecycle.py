"""The report reads what the real lifecycle writes: redirects, reclassifications, returns for
rework, reopenings after a survey — driven through core.lifecycle on a manual clock."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core import lifecycle as lc
from core import surveys
from core.actors import SYSTEM
from core.report_model import Period, Scope
from core.reports import build_report
from db.models import Staff, Survey, Topic
from tests.reminders.world import CURATOR, MSK, make_world, msk


async def test_routing_and_quality_events_from_the_lifecycle(sessionmaker, settings) -> None:
    world = await make_world(sessionmaker, settings, msk(2026, 6, 1, 10, 0))
    await world.option("review_mode", "always")
    async with sessionmaker() as session:
        roads = await session.scalar(select(Topic.id).where(Topic.code == "roads"))
        curator = await session.scalar(select(Staff).where(Staff.telegram_id == CURATOR))
    official = await world.official()

    # 1: sent to the housing department, then redirected to education.
    one = await world.new_item()
    world.at(2026, 6, 1, 11, 0)
    await world.on_item(one, lambda ctx, item: lc.assign(ctx, item, world.other_org_id, SYSTEM))
    # 2: its topic corrected.
    two = await world.new_item()
    await world.on_item(two, lambda ctx, item: lc.change_classification(ctx, item, SYSTEM, topic_id=roads))
    # 3: answered, returned for rework, answered again and approved; the citizen says «нет» with a
    # reason, the item is reopened and answered once more.
    three = await world.new_item()
    world.at(2026, 6, 2, 10, 0)
    await world.on_item(three, lambda ctx, item: lc.answer(ctx, item, official, "Отремонтируем летом."))
    await world.on_item(three, lambda ctx, item: lc.return_for_rework(ctx, item, curator, "Укажите срок."))
    world.at(2026, 6, 2, 12, 0)
    await world.on_item(three, lambda ctx, item: lc.answer(ctx, item, official, "Отремонтируем до 1 июля."))
    await world.on_item(three, lambda ctx, item: lc.approve(ctx, item, curator))
    async with sessionmaker() as session:
        survey = await session.scalar(select(Survey).where(Survey.item_id == three))
    world.clock.now = survey.send_at
    await world.tick()
    citizen = await world.citizen()
    await world.act(lambda ctx: surveys.answer_resolved(ctx, survey.id, citizen, "no"))
    await world.act(lambda ctx: surveys.give_reason(ctx, survey.id, citizen, "Яма на месте."))
    world.at(2026, 6, 5, 10, 0)
    await world.on_item(three, lambda ctx, item: lc.answer(ctx, item, official, "Яму заделали."))
    await world.on_item(three, lambda ctx, item: lc.approve(ctx, item, curator))

    june = Period(date(2026, 6, 1), date(2026, 6, 30), MSK)
    async with sessionmaker() as session:
        report = await build_report(session, june, Scope(), now=world.now, min_rated=1)
    f = report.current
    assert f.received == 3
    assert f.redirected_share == f.reclassified_share == 1 / 3  # item 1's redirect, item 2's new topic
    # Item 3's last answer counts (the reopening cleared the earlier one), on time.
    assert (f.answered, f.answered_on_time) == (1, 1)
    assert (f.surveys_answered, f.satisfied_share) == (1, 0.0)
    assert f.first_reaction.count == 1
    housing = next(r for r in report.ratings["all"] if r.organisation_id == world.org_id)
    # Item 2 and 3 are the housing department's; one return for rework, one reopening of one answer.
    assert (housing.items, housing.answered, housing.returns, housing.reopened_share) == (2, 1, 1, 1.0)
    education = next(r for r in report.ratings["all"] if r.organisation_id == world.other_org_id)
    assert (education.items, education.answered) == (1, 0)

"""The scheduler job and the run-time options the deadline context honours."""
from __future__ import annotations

from apscheduler.triggers.interval import IntervalTrigger

from core import lifecycle as lc
from core.deadlines import DeadlineContextCache
from scheduler.runner import make_scheduler
from tests.reminders.world import OFFICIAL, World, msk


async def test_the_reminder_tick_runs_every_30_seconds_and_never_drops_a_late_run(sessionmaker, settings) -> None:
    scheduler = make_scheduler(sessionmaker, settings)
    scheduler.start(paused=True)  # the job defaults are applied when the scheduler starts
    try:
        job = scheduler.get_job("reminders")
        assert isinstance(job.trigger, IntervalTrigger) and job.trigger.interval.total_seconds() == 30
        assert (job.misfire_grace_time, job.coalesce, job.max_instances) == (None, True, 1)
    finally:
        scheduler.shutdown(wait=False)


async def test_the_cached_deadline_context_follows_move_to_working_day(world: World) -> None:
    cache = DeadlineContextCache(world.settings.tz, ttl=0)
    async with world.sessionmaker() as session:
        assert (await cache.get(session)).calendar.move_to_working_day is True  # the option's default
    await world.option("move_to_working_day", "false")
    async with world.sessionmaker() as session:
        assert (await cache.get(session)).calendar.move_to_working_day is False


async def test_without_pause_while_waiting_the_reminders_go_on(world: World) -> None:
    await world.option("pause_while_waiting", "false")
    item_id = await world.new_item()
    official = await world.official()
    world.at(2026, 5, 28, 10, 0)
    await world.on_item(item_id, lambda ctx, item: lc.ask_citizen(ctx, item, official, "Какой подъезд?"))
    assert (await world.item(item_id)).paused_since is None
    world.at(2026, 6, 1, 15, 0)
    await world.tick()
    assert any((r.dedupe_key or "").startswith("ovd:") for r in await world.outbox(OFFICIAL))
    assert (await world.item(item_id)).due_answer_at == msk(2026, 6, 1, 15, 0)

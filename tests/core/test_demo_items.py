"""`seed_demo_items` and `mcu demo`: weeks of items played through the real services, on the
test database (SQLite, or PostgreSQL with MCU_TEST_DATABASE_URL)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from core import staff_auth
from core.clock import ManualClock
from core.demo import DEMO_TELEGRAM_BASE, MARKER, seed_demo_items
from core.reminders import AWAITING_ANSWER
from core.report_model import Period, Scope
from core.reports import build_report
from core.settings import Settings
from core.staff import add_staff
from core.staff_auth import set_login, set_password
from db.models import (
    Citizen,
    Item,
    ItemEvent,
    ItemMessage,
    OutboxMessage,
    Reminder,
    Role,
    SettingValue,
    Staff,
    Status,
    Survey,
)
from mcu.cli import build_parser
from mcu.directory_cli import DirectoryInputError, run_demo
from scheduler.ticks import ReminderTicker
from tests.admin.conftest import login, serve_admin

ROOT = Path(__file__).resolve().parents[2]
# Tuesday 24 November 2026, 12:00 in Moscow: the demo covers 25 September … 24 November.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
COUNT, DAYS = 60, 60


async def seed(sessionmaker, settings, **kwargs):
    async with sessionmaker() as session, session.begin():
        return await seed_demo_items(session, settings, now=NOW, count=COUNT, days=DAYS, **kwargs)


async def test_demo_items_are_played_through_the_services(sessionmaker, settings) -> None:
    seen: list[tuple[int, int]] = []
    result = await seed(sessionmaker, settings, progress=lambda done, total: seen.append((done, total)))
    assert (result.created, result.refused, result.already) == (COUNT, 0, None)
    assert seen[-1] == (COUNT, COUNT) and len(seen) == COUNT
    assert result.citizens > 10 and result.officials == 11

    async with sessionmaker() as session:
        items = list((await session.scalars(select(Item).order_by(Item.id))).all())
        assert [i.id for i in items] == sorted(result.item_ids) and len(items) == COUNT
        statuses = {i.status for i in items}
        # Finished, delivered and still-open items side by side, as after weeks of real work.
        assert {Status.closed, Status.in_work} <= statuses and len(statuses) >= 6
        assert len({i.channel for i in items}) >= 5 and len({i.topic_id for i in items}) >= 6
        assert len({i.settlement_id for i in items}) >= 4
        start = NOW - timedelta(days=DAYS + 1)
        assert all(start <= i.received_at < NOW and i.registered_at is not None for i in items)

        # Every item has its history, written by the services at the item's own moments.
        events = list((await session.scalars(select(ItemEvent))).all())
        numbered = [at for _number, at in sorted((e.new_value, e.at) for e in events if e.action == "created")]
        assert len(numbered) == COUNT and numbered == sorted(numbered)  # numbered over the weeks, in turn
        by_item: dict[int, list[ItemEvent]] = {}
        for e in events:
            by_item.setdefault(e.item_id, []).append(e)
        assert set(by_item) == {i.id for i in items}
        for item in items:
            actions = {e.action for e in by_item[item.id]}
            assert {"created", "status", "deadline"} <= actions, item.number
            assert all(item.received_at - timedelta(minutes=1) <= e.at <= NOW for e in by_item[item.id])
            if item.status == Status.closed:
                assert "resolution" in actions and item.closed_at is not None
        assert {"route", "review", "survey", "reclassified", "repeat", "question", "citizen_reply"} <= {
            e.action for e in events}
        rerouted = [e for e in events if e.action == "route" and e.old_value is not None]
        assert rerouted, "some items went to the wrong organisation first"
        # Messages carry the moment they were written, not the day the demo was made.
        messages = list((await session.scalars(select(ItemMessage))).all())
        assert messages and all(start <= m.created_at <= NOW for m in messages)

        # Figures the reports read: answered on time and late, surveys answered with scores.
        answered = [i for i in items if i.answered_at is not None and i.due_answer_at is not None]
        assert any(i.answered_at <= i.due_answer_at for i in answered)
        assert any(i.answered_at > i.due_answer_at for i in answered)
        surveys = list((await session.scalars(select(Survey).where(Survey.answered_at.is_not(None)))).all())
        assert {s.resolved for s in surveys} >= {"yes", "no"} and any(s.score for s in surveys)
        overdue = [i for i in items if Status(i.status) in AWAITING_ANSWER and i.due_answer_at < NOW
                   and i.paused_since is None]
        assert len(overdue) == result.overdue > 0

        # The tick ran up to now: nothing of the past is left due; the future is planned.
        reminders = list((await session.scalars(select(Reminder))).all())
        assert not [r for r in reminders if r.status in ("pending", "claimed") and r.due_at <= NOW]
        assert any(r.status == "pending" and r.due_at > NOW for r in reminders)
        assert any(r.status == "done" and r.kind == "overdue_daily" for r in reminders)

        # Nobody was or will be messaged: no outbox row at all, no citizen reachable by Telegram.
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert await session.scalar(select(func.count()).select_from(Citizen)
                                    .where(Citizen.telegram_id.is_not(None))) == 0
        assert all(i.tg_chat_id is None or i.tg_chat_id >= DEMO_TELEGRAM_BASE for i in items)
        assert any(i.tg_chat_id for i in items)


async def test_later_ticks_message_no_demo_citizen(sessionmaker, settings) -> None:
    """The scheduler takes over the demo's reminders (surveys, escalations) and writes to nobody made up."""
    await seed(sessionmaker, settings)
    async with sessionmaker() as session, session.begin():
        head, _ = await add_staff(session, telegram_id=424242, roles=[Role.head], name="Глава")
    clock = ManualClock(NOW + timedelta(hours=1))
    ticker = ReminderTicker(sessionmaker, settings, clock)
    for _ in range(10):  # the next ten days' mornings
        clock.advance(days=1)
        await ticker.tick()
    async with sessionmaker() as session:
        rows = list((await session.scalars(select(OutboxMessage))).all())
        surveys = list((await session.scalars(select(Survey))).all())
    assert rows, "the escalations of the overdue demo items reach the head"
    assert {r.chat_id for r in rows if r.transport == "telegram"} == {head.telegram_id}
    assert all(r.email.endswith("@novodugino.example") for r in rows if r.transport == "email")
    assert not [r for r in rows if r.chat_id is not None and r.chat_id >= DEMO_TELEGRAM_BASE]
    assert not [s for s in surveys if s.status == "sent" and s.sent_at is not None and s.sent_at > NOW]


async def test_a_second_run_adds_nothing(sessionmaker, settings) -> None:
    await seed(sessionmaker, settings)
    async with sessionmaker() as session:
        before = [await session.scalar(select(func.count()).select_from(model)) for model in (Item, Staff, Citizen)]
    again = await seed(sessionmaker, settings)
    assert (again.already, again.created) == (COUNT, 0)
    async with sessionmaker() as session:
        after = [await session.scalar(select(func.count()).select_from(model)) for model in (Item, Staff, Citizen)]
        marker = await session.get(SettingValue, MARKER)
    assert after == before and marker is not None and marker.value["items"] == COUNT


async def test_the_month_report_and_the_admin_show_the_demo(sessionmaker, settings, monkeypatch) -> None:
    await seed(sessionmaker, settings)
    november = Period(date(2026, 11, 1), date(2026, 11, 24), settings.tz)
    async with sessionmaker() as session:
        report = await build_report(session, november, Scope(), now=NOW, min_rated=3)
    f = report.current
    assert f.received > 10 and f.answered > 5 and f.answered_on_time > 0 and f.overdue_now > 0
    assert f.surveys_answered > 0 and f.satisfied_share is not None and f.average_score is not None
    assert f.first_reaction.count > 0 and f.answer_time.median_hours is not None
    assert len(f.by_topic) >= 4 and len(f.by_channel) >= 3
    assert report.problems and report.problems[0].count >= 2  # the same trouble on one street
    assert report.ratings["all"] and report.previous.received > 0

    # The admin's list and an item's page, as the curator sees them.
    monkeypatch.setattr(staff_auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    async with sessionmaker() as session, session.begin():
        curator, _ = await add_staff(session, telegram_id=515151, roles=[Role.curator], name="Куратор")
        await set_login(session, curator, "curator")
        await set_password(session, curator, "пароль-куратора-1", now=NOW, by_staff_id=None)
        newest = await session.scalar(select(Item.number).order_by(Item.received_at.desc()).limit(1))
    client = await serve_admin(settings, sessionmaker, sandbox_url=None)
    try:
        await login(client, "curator", "пароль-куратора-1")
        response = await client.get("/items")
        assert response.status == 200 and newest in await response.text()
        response = await client.get(f"/items/{newest}")
        assert response.status == 200 and newest in await response.text()
    finally:
        await client.close()


async def test_mcu_demo_from_the_command_line(tmp_path, capsys) -> None:
    """A fresh database after `mcu db upgrade`: the directory, the officials and the items; then, in
    this process, a second run that adds nothing and a bad number."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})

    def mcu(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "mcu.cli", *args], check=False, cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180)

    assert mcu("db", "upgrade").returncode == 0
    first = mcu("demo", "--items", "30", "--days", "20")
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert "Демо-обращения: 3 из 30…" in lines and "Демо-обращения: 30 из 30…" in lines
    assert "Добавлено организаций: 9, правил: 14." in lines and lines[-1].startswith("Демо-обращений: 30 за 20 дн.")
    assert "Демо-исполнителей: 11" in first.stdout and first.stderr == ""

    settings = Settings(_env_file=None, data_dir=tmp_path / "data", database_url="", bot_token=None,  # type: ignore[call-arg]
                        redis_url=None, webhook_url=None, smtp_url=None)
    await run_demo(settings, build_parser().parse_args(["demo"]))
    assert capsys.readouterr().out.strip() == (
        "Демо-обращения уже есть (30): ничего не добавлено. Чтобы начать с чистого листа, удалите базу "
        "(data/mcu.db) и запустите mcu demo снова.")
    with pytest.raises(DirectoryInputError, match="--items"):
        await run_demo(settings, build_parser().parse_args(["demo", "--items", "-1"]))

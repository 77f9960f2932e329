"""The weekly and monthly report digests on a manual clock: planned as reminder rows, claimed once by
the reminder tick, sent through the outbox with their files (the real sender, the sandbox Bot
API), never doubled by a crash or a restart; the options that move them."""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from bot.factory import make_bot
from core import report_digest
from core.options import OptionError, set_option
from core.outbox import FILES_DIR, enqueue_album, outbox_counts, store_file
from core.reports import dispose_report_engines
from db.models import AuditEntry, OutboxMessage, Reminder
from sandbox import SandboxClient, start_sandbox
from scheduler.outbox_sender import OutboxSender
from scheduler.ratelimit import RateGate
from tests.reminders.world import CURATOR, HEAD, World, make_world, msk
from tests.reports.test_render_charts import png_size

HEAD_CHAT, CURATOR_CHAT = -100_700_1, -100_700_2


@pytest.fixture
async def world(sessionmaker, settings) -> AsyncIterator[World]:
    # Thursday 30 April 2026, 15:00 in the district.
    yield await make_world(sessionmaker, settings, msk(2026, 4, 30, 15, 0))
    await dispose_report_engines()


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[Any, SandboxClient]]:
    server = await start_sandbox(host="127.0.0.1", port=0)
    async with SandboxClient(server.url) as sb:
        await sb.limits(enabled=True)  # the sender keeps Telegram's limits, albums included
        yield server, sb
    await server.stop()


async def report_rows(world: World) -> list[tuple[str, datetime, str]]:
    return [r for r in await world.reminders() if r[0] in report_digest.KINDS]


async def digest_rows(world: World, chat_id: int | None = None) -> list[OutboxMessage]:
    return [r for r in await world.outbox(chat_id) if (r.dedupe_key or "").startswith("report:")]


def files(world: World) -> list[Path]:
    folder = world.settings.data_dir / FILES_DIR
    return sorted(folder.iterdir()) if folder.exists() else []


async def drain(world: World, url: str) -> None:
    """The real outbox sender until nothing waits; its rate gate sees time move 2 s per look. Only the
    digests: the items' own notifications (to people the sandbox does not know) are dropped first."""
    async with world.sessionmaker() as session, session.begin():
        await session.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key.is_(None)
                                                          | ~OutboxMessage.dedupe_key.startswith("report:")))
    bot = make_bot(world.settings, api_url=url, dialogue=False)
    ticks = itertools.count(start=10_000.0, step=2.0)
    sender = OutboxSender(bot, world.sessionmaker, clock=world.clock, gate=RateGate(clock=lambda: next(ticks)),
                          idle=0)
    try:
        for _ in range(200):
            await sender.drain_once()
            async with world.sessionmaker() as session:
                counts = await outbox_counts(session, "telegram")
            if not counts.pending and not counts.sending:
                return
            world.clock.advance(seconds=5)  # rows deferred by the chat's limit come due
            await asyncio.sleep(0)
        async with world.sessionmaker() as session:
            stuck = [(r.chat_id, r.method, r.status, r.last_error, r.next_attempt_at)
                     for r in await session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent"))]
        raise AssertionError(f"the outbox did not drain: {stuck}")
    finally:
        await bot.session.close()


async def chats(world: World) -> None:
    await world.option("head_chat_id", HEAD_CHAT)
    await world.option("curator_chat_id", CURATOR_CHAT)
    await world.option("monthly_digest_day", 5)  # out of the weekly one's way


async def test_the_weekly_digest_is_planned_claimed_once_and_sent_to_both_chats(world, sandbox):
    server, sb = sandbox
    await chats(world)
    for _ in range(3):
        await world.new_item()
    await world.tick()
    assert await report_rows(world) == [("report_weekly", datetime(2026, 5, 4, 9, 0), "planned"),
                                        ("report_monthly", datetime(2026, 5, 5, 9, 0), "planned")]
    world.at(2026, 5, 4, 8, 59)
    assert (await world.tick()).reports == 0 and await digest_rows(world) == []
    world.at(2026, 5, 4, 9, 0)
    stats = await world.tick()
    assert stats.reports == 1
    for chat in (HEAD_CHAT, CURATOR_CHAT):
        rows = await digest_rows(world, chat)
        assert [(r.method, r.dedupe_key) for r in rows] == [
            ("sendMessage", f"report:weekly:2026-04-27:c{chat}:text"),
            ("sendMediaGroup", f"report:weekly:2026-04-27:c{chat}:album"),
            ("sendDocument", f"report:weekly:2026-04-27:c{chat}:file")]
        text = rows[0].payload["text"]
        assert text.startswith("🗓 <b>Еженедельный отчёт МЦУ</b>\n📊 <b>Отчёт МЦУ за 27.04.2026 — 03.05.2026</b>")
        assert "Поступило: 3" in text and len(text) <= 4096
        assert rows[2].payload["document"]["filename"] == "МЦУ_отчёт_2026-04-27_2026-05-03.xlsx"
    assert len(files(world)) == 2 * 4  # three charts and the spreadsheet for each chat
    assert await report_rows(world) == [("report_weekly", datetime(2026, 5, 4, 9, 0), "done"),
                                        ("report_monthly", datetime(2026, 5, 5, 9, 0), "planned"),
                                        ("report_weekly", datetime(2026, 5, 11, 9, 0), "planned")]
    count = len(await world.outbox())
    assert (await world.tick()).reports == 0 and len(await world.outbox()) == count  # once

    # The sender delivers them: the sandbox shows the summary, one album of three, the spreadsheet.
    await sb.add_group(HEAD_CHAT, "Руководство", members=[HEAD])
    await sb.add_group(CURATOR_CHAT, "Кураторы", members=[CURATOR])
    await drain(world, server.url)
    for chat in (HEAD_CHAT, CURATOR_CHAT):
        shown = await sb.bot_messages(chat)
        assert "Еженедельный отчёт МЦУ" in shown[0]["text"]
        album = [m for m in shown if (m.get("media") or {}).get("type") == "photo"]
        assert len(album) == 3 and len({m["media_group_id"] for m in album}) == 1
        assert "Графики к отчёту за 27.04.2026 — 03.05.2026" in album[0]["caption"]
        for m in album:
            png_size(await sb.file_bytes(m["media"]["file_id"]))
        document = shown[-1]["media"]
        assert document["type"] == "document" and document["file_name"] == "МЦУ_отчёт_2026-04-27_2026-05-03.xlsx"
        assert (await sb.file_bytes(document["file_id"]))[:2] == b"PK"  # a zip: the .xlsx
    assert files(world) == []  # deleted once sent
    assert sum((await sb.stats())["violations"].values()) == 0  # the album counted as three messages


async def test_a_crash_mid_build_and_a_restart_do_not_double_it(world):
    await chats(world)
    await world.new_item()
    await world.tick()
    world.at(2026, 5, 4, 9, 0)
    # A tick claims the row and dies before writing anything.
    claimed = await report_digest.claim(world.sessionmaker, world.now)
    assert [c.kind for c in claimed] == ["report_weekly"]
    world.at(2026, 5, 4, 9, 5)
    assert (await world.tick()).reports == 0  # still someone's: not yet stale
    world.at(2026, 5, 4, 9, 20)
    assert (await world.tick()).reports == 1  # stale: built again, once
    assert len(await digest_rows(world)) == 6
    # The done mark lost (as if the row were claimed again): the outbox rows of the period stand.
    async with world.sessionmaker() as session, session.begin():
        await session.execute(update(Reminder).where(Reminder.kind == "report_weekly",
                                                     Reminder.status == "done").values(status="planned"))
    await world.tick()
    assert len(await digest_rows(world)) == 6
    assert len(files(world)) == 8  # no orphan files from the second pass
    # A second scheduler starting fresh plans nothing new.
    await world.ticker().tick()
    assert [r for r in await report_rows(world) if r[2] == "planned"] == [
        ("report_monthly", datetime(2026, 5, 5, 9, 0), "planned"),
        ("report_weekly", datetime(2026, 5, 11, 9, 0), "planned")]


async def test_the_monthly_digest_goes_to_the_curator_only(world):
    await world.option("curator_chat_id", CURATOR_CHAT)
    await world.option("monthly_digest_time", "08:00")
    await world.new_item()
    await world.tick()
    world.at(2026, 5, 1, 8, 0)
    await world.tick()
    rows = await digest_rows(world)
    assert {r.chat_id for r in rows} == {CURATOR_CHAT}
    assert [r.dedupe_key for r in rows] == [f"report:monthly:2026-04-01:c{CURATOR_CHAT}:{p}"
                                            for p in ("text", "album", "file")]
    text = rows[0].payload["text"]
    assert text.startswith("🗓 <b>Ежемесячный отчёт МЦУ</b>\n📊 <b>Отчёт МЦУ за 01.04.2026 — 30.04.2026</b>")
    assert "Поступило: 1" in text
    assert ("report_monthly", datetime(2026, 6, 1, 8, 0), "planned") in await report_rows(world)
    # The head is not told of the monthly one.
    assert await world.outbox(HEAD) == []


async def test_the_options_move_the_planned_rows_and_are_audited(world):
    await world.tick()
    await world.option("weekly_digest_day", "среда")
    await world.option("weekly_digest_time", "10:30")
    await world.option("monthly_digest_day", "15")
    await world.tick()
    assert await report_rows(world) == [("report_weekly", datetime(2026, 5, 6, 10, 30), "planned"),
                                        ("report_monthly", datetime(2026, 5, 15, 9, 0), "planned")]
    async with world.sessionmaker() as session:
        names = [e.details["name"] for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "setting.change").order_by(AuditEntry.id))]
        for name, bad in (("weekly_digest_day", "восьмой"), ("weekly_digest_day", "9"),
                          ("monthly_digest_day", "31"), ("monthly_digest_time", "25:00")):
            with pytest.raises(OptionError):
                await set_option(session, name, bad, staff_id=None, now=world.now)
    assert names == ["weekly_digest_day", "weekly_digest_time", "monthly_digest_day"]


async def test_a_digest_that_cannot_be_built_is_set_aside_and_the_next_planned(world, tmp_path):
    await chats(world)
    await world.tick()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the outbox folder should be")
    world.settings = world.settings.model_copy(update={"data_dir": blocker})
    world.at(2026, 5, 4, 9, 0)
    assert (await world.tick()).reports == 0
    assert await digest_rows(world) == []
    assert ("report_weekly", datetime(2026, 5, 4, 9, 0), "failed") in await report_rows(world)
    assert ("report_weekly", datetime(2026, 5, 11, 9, 0), "planned") in await report_rows(world)


async def test_a_stored_file_that_vanished_fails_its_row_for_good(world, sandbox):
    server, sb = sandbox
    await sb.add_group(HEAD_CHAT, "Руководство", members=[HEAD])
    async with world.sessionmaker() as session, session.begin():
        parts = [{"type": "photo", **store_file(world.settings.data_dir, b"not used", f"{n}.png")} for n in range(2)]
        enqueue_album(session, HEAD_CHAT, parts, now=world.now, dedupe_key="report:weekly:test")
    Path(parts[0]["path"]).unlink()
    await drain(world, server.url)
    async with world.sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage))
        assert row.status == "failed" and "gone" in row.last_error
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1
    assert files(world) == []  # the other part is cleaned up too

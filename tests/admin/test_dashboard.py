"""The dashboard: its figures on a real database (scoped by role), the page, and the charts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from admin.views.charts import TTL, ChartCache
from core.dashboard import dashboard
from db.models import Item, Status, Survey
from tests.admin.items_world import set_up_office

TZ = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 12:00 in Moscow


@pytest.fixture
async def office(settings, sessionmaker, make_staff):
    return await set_up_office(settings, sessionmaker, make_staff)


async def rows(office, *items: dict) -> list[Item]:
    made = []
    async with office.sessionmaker() as session, session.begin():
        for n, values in enumerate(items):
            item = Item(**{"number": f"2026-{800_000 + n:06d}", "kind": "message", "channel": "bot",
                           "status": Status.registered, "text": "x", "received_at": NOW - timedelta(days=3),
                           "topic_id": office.housing, **values})
            session.add(item)
            made.append(item)
    return made


async def test_the_figures_count_what_the_tiles_say(office) -> None:
    today = NOW - timedelta(hours=2)
    made = await rows(
        office,
        {"received_at": today},  # new today, waiting for routing
        {"received_at": today, "status": Status.received},  # a draft: not counted as new
        {"status": Status.in_work, "organisation_id": office.zhkh, "due_answer_at": NOW - timedelta(days=1)},
        {"status": Status.assigned, "organisation_id": office.zhkh, "due_answer_at": NOW + timedelta(hours=3)},
        {"status": Status.returned, "organisation_id": office.edu, "due_answer_at": NOW + timedelta(days=5),
         "topic_id": office.roads},
        {"status": Status.under_review, "organisation_id": office.zhkh, "due_answer_at": NOW - timedelta(days=2)},
        {"status": Status.closed, "organisation_id": office.zhkh, "received_at": NOW - timedelta(days=60)},
    )
    async with office.sessionmaker() as session, session.begin():
        for resolved, score, item in (("yes", 5, made[6]), ("no", 2, made[6]), ("yes", None, made[4])):
            session.add(Survey(item_id=item.id, status="answered", resolved=resolved, score=score,
                               answered_at=NOW - timedelta(days=2), organisation_id=item.organisation_id))
        session.add(Survey(item_id=made[6].id, status="answered", resolved="yes", answered_at=NOW - timedelta(days=40)))
    async with office.sessionmaker() as session:
        d = await dashboard(session, office.people["curator"], NOW, TZ)
        assert (d.new_today, d.waiting, d.in_work, d.review, d.due_today, d.overdue) == (1, 1, 3, 1, 1, 1)
        assert (d.surveys_answered, d.satisfied, d.average_score) == (3, 2, 3.5)
        assert round(d.satisfied_share, 2) == 0.67
        assert dict(d.by_status) == {"registered": 1, "assigned": 1, "in_work": 1, "returned": 1, "under_review": 1}
        by_topic = {ru: n for ru, _en, n in d.by_topic}
        assert by_topic == {"ЖКХ": 4, "Дороги": 1}
        assert len(d.by_day) == 30 and d.by_day[-1] == (NOW.astimezone(TZ).date(), 1)
        assert sum(n for _day, n in d.by_day) == 5  # the draft and the 60-day-old item are outside

        mine = await dashboard(session, office.people["official"], NOW, TZ)
        assert (mine.new_today, mine.waiting, mine.in_work, mine.review, mine.overdue) == (0, 0, 2, 1, 1)
        assert (mine.surveys_answered, mine.satisfied) == (2, 1)  # the other organisation's survey is not theirs


async def test_the_page_links_each_figure_to_the_list(admin_client, login, office) -> None:
    await office.item("Сегодняшнее")
    await login(admin_client, "curator")
    response = await admin_client.get("/")
    page = await response.text()
    assert response.status == 200
    for link in ('href="/items?status=registered"', 'href="/items?overdue=1"', 'href="/items?status=working"',
                 'href="/items?due_today=1"'):
        assert link in page
    for name in ("status", "topics", "days"):
        assert f'src="/charts/dashboard-{name}.png' in page


async def test_charts_are_png_and_kept_for_a_minute(admin_client, login, office) -> None:
    await office.item("Обращение")
    await login(admin_client, "curator")
    for name in ("status", "topics", "days"):
        response = await admin_client.get(f"/charts/dashboard-{name}.png")
        body = await response.read()
        assert response.status == 200 and response.headers["Content-Type"] == "image/png"
        assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) > 2000
    response = await admin_client.get("/charts/dashboard-secret.png")
    assert response.status == 404


def test_the_chart_cache_forgets_after_its_time() -> None:
    clock = [100.0]
    cache = ChartCache(monotonic=lambda: clock[0])
    cache.put(("status", "all", "ru"), b"png")
    assert cache.get(("status", "all", "ru")) == b"png" and cache.get(("status", "org:1", "ru")) is None
    clock[0] += TTL - 1
    assert cache.get(("status", "all", "ru")) == b"png"
    clock[0] += 1
    assert cache.get(("status", "all", "ru")) is None
    cache.put(("days", "all", "ru"), b"new")
    assert list(cache.entries) == [("days", "all", "ru")]  # the stale entry went

"""/audit: newest first, a page at a time by keyset, filtered by staff member and action."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

from core.audit import PAGE_SIZE, Cursor, record
from db.models import Role
from tests.admin.conftest import login

ROW = re.compile(r'<td data-label="Подробности"><code>\{&#34;n&#34;: (\d+)\}</code>')


async def _fill(sessionmaker, staff_ids: list[int], count: int) -> datetime:
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    async with sessionmaker() as session, session.begin():
        for n in range(count):
            # Two rows share each second: the id breaks the tie, so none is skipped or shown twice.
            record(session, staff_id=staff_ids[n % len(staff_ids)], action="setting.change" if n % 3 else "staff.update",
                   at=start + timedelta(seconds=n // 2), details={"n": n})
    return start


def _numbers(page: str) -> list[int]:
    return [int(n) for n in ROW.findall(page)]


def _link(page: str, label: str) -> str | None:
    found = re.search(r'<a href="([^"]+)">[^<]*' + re.escape(label), page)
    return unescape(found.group(1)) if found else None


async def test_pages_walk_the_whole_log_newest_first_and_back(admin_client, make_staff, sessionmaker):
    curator = await make_staff(Role.curator)
    other = await make_staff(Role.analyst)
    total = 2 * PAGE_SIZE + 7
    await _fill(sessionmaker, [curator.id, other.id], total)
    await login(admin_client, curator.login)  # adds a login.ok row, newest of all

    seen: list[list[int]] = []
    pages: list[str] = []
    url: str | None = "/audit"
    while url:
        page = await (await admin_client.get(url)).text()
        pages.append(url)
        seen.append(_numbers(page))
        url = _link(page, "Старше")
    assert [n for numbers in seen for n in numbers] == list(range(total - 1, -1, -1))  # each row once, newest first
    # 3 sign-in rows (two passwords set, one login) are the newest; then 107 filled ones.
    assert [len(s) for s in seen] == [PAGE_SIZE - 3, PAGE_SIZE, 10]
    assert _link(page, "Новее") is not None and "Старше" not in page

    # And back up, page by page, to the newest.
    for expected in (seen[1], seen[0]):
        page = await (await admin_client.get(_link(page, "Новее"))).text()
        assert _numbers(page) == expected
    assert _link(page, "Новее") is None and _link(page, "Самые новые") is None


async def test_filters_by_staff_and_action(admin_client, make_staff, sessionmaker):
    curator = await make_staff(Role.curator)
    other = await make_staff(Role.analyst)
    await _fill(sessionmaker, [curator.id, other.id], 30)
    await login(admin_client, curator.login)

    page = await (await admin_client.get(f"/audit?staff={other.id}")).text()
    assert _numbers(page) == [n for n in range(29, -1, -1) if n % 2]
    page = await (await admin_client.get("/audit?action=staff.update")).text()
    assert _numbers(page) == [n for n in range(29, -1, -1) if n % 3 == 0]
    page = await (await admin_client.get(f"/audit?action=staff.&staff={curator.id}")).text()
    assert _numbers(page) == [n for n in range(29, -1, -1) if n % 3 == 0 and n % 2 == 0]
    page = await (await admin_client.get("/audit?action=login.")).text()
    assert _numbers(page) == [] and "вход</span>" in page  # the curator's own login.ok
    page = await (await admin_client.get("/audit?staff=abc&before=garbage&after=..")).text()
    assert len(_numbers(page)) == 30  # a mangled address shows the newest page, not an error


def test_a_cursor_survives_its_round_trip():
    at = datetime(2026, 3, 1, 9, 0, 0, 123456, tzinfo=UTC)
    assert Cursor.decode(Cursor(at, 42).encode()) == Cursor(at, 42)
    assert Cursor.decode("nonsense") is None and Cursor.decode(None) is None

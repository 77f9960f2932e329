"""/reports: the centre's report on the hand-made district of tests/reports (figures worked out by hand
there): the form, the figures, the charts, ratings, problems, overdue, the XLSX — and who sees what."""
from __future__ import annotations

import io
import re
from html import unescape

import openpyxl
import pytest

from core.clock import ManualClock
from core.reports import dispose_report_engines
from db.models import Role
from tests.admin.conftest import serve_admin
from tests.admin.dir_helpers import sign_in, strip_tags
from tests.reports.hand import NOW, Hand, build

NOVEMBER = "period=dates&start=2026-11-01&end=2026-11-30"


@pytest.fixture
async def hand(sessionmaker) -> Hand:
    return await build(sessionmaker)


@pytest.fixture
async def client(settings, sessionmaker):
    """The admin on 10 December 2026, 10:00 Moscow — the day tests/reports/hand.py reports on."""
    client = await serve_admin(settings, sessionmaker, sandbox_url=None, clock=ManualClock(NOW))
    try:
        yield client
    finally:
        await client.close()
        await dispose_report_engines()


def figure(page: str, css: str) -> str:
    found = re.search(rf'<b class="{css}">([^<]+)</b>', page)
    assert found, css
    return found.group(1)


async def test_november_on_the_page(client, make_staff, hand):
    await sign_in(client, make_staff, Role.curator)
    response = await client.get(f"/reports?{NOVEMBER}")
    page = unescape(await response.text())
    assert response.status == 200
    # tests/reports/test_figures.py: 12 received, 10 answered (8 on time), 2 overdue now.
    assert figure(page, "fig-received") == "12" and figure(page, "fig-overdue") == "2"
    text = strip_tags(page)
    assert "Отчёт МЦУ за 01.11.2026 — 30.11.2026" in text and "Дано ответов: 10, из них в срок: 80" in text
    assert page.count('<img src="data:image/png;base64,') == 3
    assert "Отдел ЖКХ" in text and "Отдел образования" in text  # the ratings
    overdue = page.split('class="list overdue"')[1].split("</table>")[0]
    assert len(re.findall(r'<a href="/items/', overdue)) == 2
    # The form shows what was asked.
    assert 'value="2026-11-01"' in page and '<option value="dates" selected>' in page
    assert 'href="/reports/report.xlsx?period=dates&amp;start=2026-11-01&amp;end=2026-11-30"' in await response.text()


async def test_the_xlsx_opens_with_its_sheets(client, make_staff, hand):
    await sign_in(client, make_staff, Role.analyst)
    response = await client.get(f"/reports/report.xlsx?{NOVEMBER}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "attachment" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await response.read()), read_only=True)
    assert len(book.sheetnames) == 4 and "Обращения" in book.sheetnames and "Рейтинг" in book.sheetnames
    items = list(book["Обращения"].iter_rows(values_only=True))
    assert sum(1 for row in items if row and isinstance(row[0], str) and row[0].startswith("2026-")) == 12


async def test_a_scope_narrows_every_figure(client, make_staff, hand):
    await sign_in(client, make_staff, Role.head)
    page = unescape(await (await client.get(f"/reports?{NOVEMBER}&topic_id={hand.topics['roads']}")).text())
    assert figure(page, "fig-received") == "4" and "Охват: Дороги" in strip_tags(page)
    page = unescape(await (await client.get(f"/reports?{NOVEMBER}&channel=pos")).text())
    assert figure(page, "fig-received") == "2" and figure(page, "fig-overdue") == "1"


async def test_a_recipient_sees_only_its_organisation(client, make_staff, hand, sessionmaker):
    await sign_in(client, make_staff, Role.recipient, organisation_id=hand.org_b)
    # It asks for the whole centre, then for the other organisation: it gets its own either way.
    for query in (NOVEMBER, f"{NOVEMBER}&organisation_id={hand.org_a}"):
        page = unescape(await (await client.get(f"/reports?{query}")).text())
        text = strip_tags(page)
        assert "Охват: Отдел образования" in text
        # B «Отдел образования» in November: c5 c6 c11 → 3 received; c6 overdue.
        assert figure(page, "fig-received") == "3" and figure(page, "fig-overdue") == "1"
        assert "Отдел ЖКХ" not in text
    book = openpyxl.load_workbook(io.BytesIO(await (await client.get(
        f"/reports/report.xlsx?{NOVEMBER}&organisation_id={hand.org_a}")).read()), read_only=True)
    cells = " ".join(str(v) for row in book["Обращения"].iter_rows(values_only=True) for v in row if v)
    assert "Отдел ЖКХ" not in cells and "Отдел образования" in cells


async def test_bad_periods_and_who_may_not(client, make_staff, hand, sessionmaker):
    await sign_in(client, make_staff, Role.pos_officer)
    response = await client.get("/reports?period=dates&start=2026-11-30&end=2026-11-01")
    assert response.status == 400 and "Конец периода (01.11.2026) раньше начала (30.11.2026)." in unescape(
        await response.text())
    response = await client.get("/reports?period=dates&start=")
    assert response.status == 400 and "Укажите даты начала и конца периода" in unescape(await response.text())
    page = unescape(await (await client.get(f"/reports?{NOVEMBER}&channel=im")).text())
    assert "Охват: ПОС" in strip_tags(page)  # a ПОС officer's report is ПОС's, whatever it asks
    await client.post("/logout", data={"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', page)[1]})
    await sign_in(client, make_staff, Role.gospublic_officer)
    assert (await client.get("/reports")).status == 403
    assert (await client.get("/reports/report.xlsx")).status == 403


async def test_a_recipient_without_an_organisation_is_refused(client, make_staff, sessionmaker):
    await sign_in(client, make_staff, Role.recipient)
    response = await client.get("/reports")
    assert response.status == 403 and "Отчёты вам недоступны" in unescape(await response.text())


async def test_the_default_is_the_last_week(client, make_staff):
    await sign_in(client, make_staff, Role.curator)
    page = strip_tags(unescape(await (await client.get("/reports")).text()))
    assert "Отчёт МЦУ за 04.12.2026 — 10.12.2026" in page and "За период обращений не было." in page

"""The admin in a real headless Chromium (Debian's package, driven by Playwright): a curator logs in,
filters the list, opens an item and assigns it; the official receives the card in Telegram — the
sandbox Bot API, with the real bot polling it and the real outbox sender delivering.

Playwright's sync API runs in one worker thread of its own for the whole module (one browser per
module), because the test's event loop must stay free to serve the admin the browser talks to.
Screenshots of the dashboard and the item page go to tests/output/ for the README.
"""
from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from admin.app import create_app
from db.models import Attachment, Item, Status
from tests.admin.items_world import set_up_office
from tests.bot.conftest import harness, sandbox_server  # noqa: F401  (fixtures of the bot tests)
from tests.bot.staff_helpers import courier

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
OUTPUT = Path(__file__).resolve().parents[1] / "output"
CURATOR_TG, OFFICIAL_TG = 9301, 9302
T = TypeVar("T")

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")


def road_photo() -> bytes:
    """A picture of a pothole, drawn here (the citizen's photo on the item page)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Ellipse, Rectangle

    figure = Figure(figsize=(4, 2.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.add_patch(Rectangle((0, 0), 1, 1, color="#8a8d91"))
    axes.add_patch(Rectangle((0, 0.47), 1, 0.04, color="#f2f2f2"))
    axes.add_patch(Ellipse((0.55, 0.3), 0.38, 0.16, color="#3b3326"))
    axes.add_patch(Ellipse((0.56, 0.31), 0.3, 0.1, color="#5d6b7a"))
    axes.set_axis_off()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


class Browser:
    """Chromium in a thread of its own; `await browser.run(fn)` runs `fn(page)`-style calls there."""

    def __init__(self) -> None:
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium")
        self.playwright: Any = None
        self.browser: Any = None

    def start(self) -> None:
        def launch() -> None:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)

        self.thread.submit(launch).result(timeout=60)

    def stop(self) -> None:
        def close() -> None:
            if self.browser is not None:
                self.browser.close()
            if self.playwright is not None:
                self.playwright.stop()

        self.thread.submit(close).result(timeout=60)
        self.thread.shutdown()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.thread, fn, *args)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    b = Browser()
    b.start()
    try:
        yield b
    finally:
        b.stop()


async def test_a_curator_assigns_an_item_and_the_official_gets_the_card(
        browser, harness, settings, sessionmaker, sandbox_server, make_staff) -> None:  # noqa: F811
    h = harness
    for user, name in ((CURATOR_TG, "Ольга"), (OFFICIAL_TG, "Иван")):
        await h.user(user, first_name=name)
    office = await set_up_office(settings, sessionmaker, make_staff, curator_tg=CURATOR_TG, official_tg=OFFICIAL_TG)
    await h.user(office.citizen_tg, first_name="Анна")
    sent = await h.sb.send_photo(office.citizen_tg, road_photo(), "yama.png")
    photo_id = sent["message"]["photo"][-1]["file_id"]

    # A month of items so the dashboard has something to show.
    now = datetime.now(UTC)
    for n in range(24):
        await office.item(f"Обращение о дороге {n}", kind="message", topic=office.roads if n % 3 else office.housing,
                          at=now - timedelta(days=n % 20, hours=n), organisation=office.edu if n % 4 == 0 else None)
    target = await office.item("Большая яма на дороге у школы № 2, машины объезжают по тротуару",
                               topic=office.roads, address="ул. Школьная, 1")
    async with sessionmaker() as session, session.begin():
        session.add(Attachment(item_id=target.id, kind="photo", telegram_file_id=photo_id))

    server = TestServer(create_app(settings, sessionmaker, sandbox_url=sandbox_server.url), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shots = {"dashboard": OUTPUT / "admin-dashboard.png", "item": OUTPUT / "admin-item.png"}
    try:
        async with courier(settings, sessionmaker, sandbox_server.url):
            after = await h.last_id(OFFICIAL_TG)
            page = await browser.run(lambda: browser.browser.new_page(viewport={"width": 1280, "height": 900},
                                                                     locale="ru-RU"))
            try:
                def log_in() -> str:
                    page.goto(f"{base}/login")
                    page.fill("input[name=login]", "curator")
                    page.fill("input[name=password]", "пароль-для-теста-1")
                    page.click("button[type=submit]")
                    page.wait_for_selector(".tiles")
                    page.wait_for_load_state("load")  # the charts are images: loaded by now
                    assert page.eval_on_selector_all("img", "imgs => imgs.filter(i => i.naturalWidth > 0).length") == 3
                    page.screenshot(path=str(shots["dashboard"]), full_page=True)
                    return page.inner_text("main")

                dashboard = await browser.run(log_in)
                assert "Ждут распределения" in dashboard and "Просрочено" in dashboard

                def filter_list() -> list[str]:
                    page.click("nav.menu a[href='/items']")
                    page.select_option("select[name=topic]", str(office.roads))
                    page.select_option("select[name=status]", "registered")
                    page.fill("input[name=q]", "яма школы")
                    page.click("#filters button[type=submit]")
                    page.wait_for_url("**/items?**")
                    return page.locator("table.items tbody tr td:first-child a").all_inner_texts()

                listed = await browser.run(filter_list)
                assert listed == [target.number]

                def open_and_assign() -> str:
                    page.click(f"a[href='/items/{target.number}']")
                    page.wait_for_selector("form[data-action=assign]")
                    page.select_option("form[data-action=assign] select[name=organisation]", str(office.zhkh))
                    page.click("form[data-action=assign] button[type=submit]")
                    page.wait_for_selector(".flash.ok")
                    page.wait_for_load_state("load")
                    assert page.eval_on_selector_all(".files img", "imgs => imgs.map(i => i.naturalWidth)") == [400]
                    page.screenshot(path=str(shots["item"]), full_page=True)
                    return page.inner_text(".flash.ok")

                flash = await browser.run(open_and_assign)
                assert f"№ {target.number} направлено: Отдел ЖКХ" in flash
            finally:
                await browser.run(page.close)

            card = await h.sb.wait_bot_message(OFFICIAL_TG, after=after, timeout=15,
                                               predicate=lambda m: target.number in (m.get("text") or ""))
            assert "Вам направлено" in card["text"] and "Большая яма" in card["text"]
            buttons = [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row]
            assert "Принять в работу" in buttons
            photo = await h.sb.wait_bot_message(OFFICIAL_TG, after=card["message_id"], timeout=15,
                                                predicate=lambda m: (m.get("media") or {}).get("type") == "photo")
            assert target.number in photo["caption"]
    finally:
        await server.close()
    async with sessionmaker() as session:
        item = await session.scalar(select(Item).where(Item.number == target.number))
        assert item.status == Status.assigned and item.organisation_id == office.zhkh
    for path in shots.values():
        assert path.stat().st_size > 10_000
        print(f"screenshot: {path}")

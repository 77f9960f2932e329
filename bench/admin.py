"""Server time of the admin's items list and dashboard over a million items.

Run:  .venv/bin/python bench/admin.py [--items 1000000] [--rounds 20] [--pg URL | --no-pg]

The database comes from bench/datagen.py (made once and kept in bench/.data/admin-<N>.db; on
PostgreSQL in the database `mcu_bench_admin_<N>`, made when the server answers). The real admin app
runs in an aiohttp test server with a middleware put first in its chain that stamps each response
with `Server-Timing: app;dur=<ms>` — the time from the request entering the app to the response
leaving it: the sign-in cookie, the session row, the query, the page. A curator and a recipient sign
in through the login form; then each case is asked `rounds` times (after one warm-up) and the p50 /
p95 of those stamps are printed:
* the list with two filters and a full-text search (ten combinations of filters and Russian words),
  first pages and the keyset page that follows;
* the dashboard for the curator (everything) and for a recipient (one organisation).
Targets (issue 6): list p95 ≤ 150 ms, dashboard p95 ≤ 300 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from admin.app import create_app
from bench.datagen import generate
from core.settings import Settings
from core.staff import add_staff
from core.staff_auth import set_login, set_password
from db.engine import make_engine, make_sessionmaker
from db.models import Item, Role, Topic

DATA = ROOT / "bench" / ".data"
PASSWORD = "bench-password-1"
PG_DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1/postgres"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
TIMING = re.compile(r"app;dur=([0-9.]+)")
NEXT = re.compile(r'rel="next" href="([^"]+)"')


@web.middleware
async def server_timing(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                        ) -> web.StreamResponse:
    started = time.perf_counter()
    response = await handler(request)
    if not response.prepared:
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return q[49], q[94], max(samples)


async def _staff(maker: Any) -> tuple[str, str]:
    """A curator and a recipient of the busiest organisation, with admin passwords."""
    async with maker() as session, session.begin():
        busiest = (await session.execute(
            select(Item.organisation_id, func.count()).where(Item.organisation_id.is_not(None))
            .group_by(Item.organisation_id).order_by(func.count().desc()).limit(1))).first()
        now = datetime.now(UTC)
        curator, _new = await add_staff(session, telegram_id=None, roles=[Role.curator], name="Bench curator")
        official, _new = await add_staff(session, telegram_id=None, roles=[Role.recipient], name="Bench official")
        official.organisation_id = busiest[0]
        for person, login in ((curator, "bench-curator"), (official, "bench-official")):
            await set_login(session, person, f"{login}-{person.id}")
            await set_password(session, person, PASSWORD, now=now, by_staff_id=None)
        return curator.login or "", official.login or ""


async def _cases(maker: Any) -> list[tuple[str, dict[str, str]]]:
    """Ten list queries: two filters each and a search, as staff type them."""
    async with maker() as session:
        topics = {code: i for code, i in (await session.execute(select(Topic.code, Topic.id))).all()}
        settlement = (await session.execute(
            select(Item.settlement_id, func.count()).where(Item.settlement_id.is_not(None))
            .group_by(Item.settlement_id).order_by(func.count().desc()).limit(2))).all()
        orgs = (await session.execute(
            select(Item.organisation_id, func.count()).where(Item.organisation_id.is_not(None))
            .group_by(Item.organisation_id).order_by(func.count().desc()).limit(3))).all()
        newest = await session.scalar(select(func.max(Item.received_at)))
    last = (newest or datetime.now(UTC)).date()
    quarter = (last - timedelta(days=90)).isoformat()
    year_ago = date(last.year - 1, last.month, 1).isoformat()
    big, small = settlement[0][0], settlement[-1][0]
    return [
        ("topic+status, «яма»", {"topic": str(topics["roads"]), "status": "open", "q": "яма"}),
        ("settlement+channel, «мусор»", {"settlement": str(big), "channel": "bot", "q": "мусор"}),
        ("organisation+overdue, «крыша»", {"org": str(orgs[0][0]), "overdue": "1", "q": "крыша"}),
        ("topic+from, «воды»", {"topic": str(topics["housing"]), "from": quarter, "q": "воды"}),
        ("status+channel, «Ленина»", {"status": "final", "channel": "pos", "q": "Ленина"}),
        ("kind+topic, «контейнеры»", {"kind": "appeal", "topic": str(topics["waste"]), "q": "контейнеры"}),
        ("status+settlement, «освещение»", {"status": "working", "settlement": str(small), "q": "освещение"}),
        ("organisation+period, «асфальт»", {"org": str(orgs[1][0]), "from": year_ago, "q": "асфальт"}),
        ("channel+status, «автобус»", {"channel": "phone", "status": "closed", "q": "автобус"}),
        ("topic+organisation, «светофор»", {"topic": str(topics["roads"]), "org": str(orgs[2][0]),
                                            "q": "светофор"}),
    ]


async def _sign_in(client: TestClient, login: str) -> None:
    page = await (await client.get("/login")).text()
    token = CSRF.search(page)
    assert token, "no login form"
    response = await client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token.group(1)},
                                 allow_redirects=False)
    assert response.status == 302, f"sign-in refused ({response.status})"


async def _timed(client: TestClient, path: str) -> tuple[float, str]:
    response = await client.get(path)
    body = await response.text()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}")
    found = TIMING.search(response.headers.get("Server-Timing", ""))
    assert found, "no Server-Timing header"
    return float(found.group(1)), body


async def run(url: str, items: int, rounds: int) -> dict[str, tuple[float, float, float]]:
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    settings = Settings(_env_file=None, database_url=url, data_dir=DATA, bot_token=None)  # type: ignore[call-arg]
    results: dict[str, tuple[float, float, float]] = {}
    try:
        async with maker() as session:
            have = int(await session.scalar(select(func.count()).select_from(Item)) or 0)
        print(f"  {have:,} items", flush=True)
        curator, official = await _staff(maker)
        cases = await _cases(maker)
        app = create_app(settings, maker)
        app.middlewares.insert(0, server_timing)
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        try:
            await _sign_in(client, curator)
            list_first: list[float] = []
            list_next: list[float] = []
            worst: list[tuple[float, str]] = []
            for name, query in cases:
                path = "/items?" + urlencode(query)
                await _timed(client, path)  # warm-up: the first read of these pages from disk
                samples = []
                for _ in range(rounds):
                    ms, body = await _timed(client, path)
                    samples.append(ms)
                following = NEXT.search(body)
                if following:
                    for _ in range(max(1, rounds // 4)):
                        ms, _body = await _timed(client, following.group(1).replace("&amp;", "&"))
                        list_next.append(ms)
                list_first += samples
                p50, p95, top = percentiles(samples)
                worst.append((p95, name))
                print(f"    {name:<36} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {top:6.1f} ms", flush=True)
            results["list: two filters + search (first page)"] = percentiles(list_first)
            if len(list_next) > 1:
                results["list: the following keyset page"] = percentiles(list_next)
            dashboard = []
            await _timed(client, "/")
            for _ in range(rounds * 2):
                ms, _body = await _timed(client, "/")
                dashboard.append(ms)
            results["dashboard: curator (all items)"] = percentiles(dashboard)
            client.session.cookie_jar.clear()
            await _sign_in(client, official)
            scoped = []
            await _timed(client, "/")
            for _ in range(rounds * 2):
                ms, _body = await _timed(client, "/")
                scoped.append(ms)
            results["dashboard: recipient (one organisation)"] = percentiles(scoped)
            mine = []
            await _timed(client, "/items?q=" + "вода")
            for _ in range(rounds):
                ms, _body = await _timed(client, "/items?" + urlencode({"status": "open", "q": "воды"}))
                mine.append(ms)
            results["list: recipient, status + search"] = percentiles(mine)
        finally:
            await client.close()
    finally:
        await engine.dispose()
    return results


async def _pg_database(base: str, items: int) -> str | None:
    """The benchmark's PostgreSQL database (created when missing), or None if the server is not there."""
    import asyncpg

    admin = make_url(base)
    name = f"mcu_bench_admin_{items}"
    try:
        conn = await asyncpg.connect(user=admin.username, password=admin.password, host=admin.host,
                                     port=admin.port or 5432, database=admin.database or "postgres", timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.set(database=name).render_as_string(hide_password=False)


async def _ensure_items(url: str, items: int) -> None:
    """Generate the data once; a database that already holds them is used as it is."""
    engine = make_engine(url)
    try:
        try:
            async with engine.connect() as conn:
                have = int((await conn.execute(text("SELECT count(*) FROM items"))).scalar() or 0)
        except Exception:  # noqa: BLE001 — no schema yet: datagen migrates it
            have = 0
    finally:
        await engine.dispose()
    if have >= items:
        return
    if have:
        raise SystemExit(f"{url}: holds {have:,} items, fewer than {items:,}; remove it to regenerate")
    print(f"  generating {items:,} items (bench/datagen.py) …", flush=True)
    started = time.perf_counter()
    await generate(url, items)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)


def _print(title: str, results: dict[str, tuple[float, float, float]]) -> None:
    print(f"\n{title}")
    for name, (p50, p95, top) in results.items():
        print(f"  {name:<44} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {top:6.1f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--pg", default=PG_DEFAULT, help="a PostgreSQL server to bench too (default: %(default)s)")
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    sqlite_url = f"sqlite+aiosqlite:///{DATA / f'admin-{args.items}.db'}"
    print(f"SQLite ({sqlite_url})", flush=True)
    await _ensure_items(sqlite_url, args.items)
    _print(f"SQLite, {args.items:,} items, {args.rounds} rounds per case", await run(sqlite_url, args.items, args.rounds))
    if args.no_pg:
        return
    pg_url = await _pg_database(args.pg, args.items)
    if pg_url is None:
        print("\nPostgreSQL: not reachable, skipped")
        return
    print(f"\nPostgreSQL ({make_url(pg_url).render_as_string(hide_password=True)})", flush=True)
    await _ensure_items(pg_url, args.items)
    _print(f"PostgreSQL, {args.items:,} items, {args.rounds} rounds per case", await run(pg_url, args.items, args.rounds))


if __name__ == "__main__":
    asyncio.run(main())

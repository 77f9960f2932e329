"""The admin shell: health, front page, and the sandbox chat forwarded to the sandbox."""
from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from admin.app import create_app
from sandbox import start_sandbox


async def _serve(settings, sessionmaker, sandbox_url=None):
    server = TestServer(create_app(settings, sessionmaker, sandbox_url=sandbox_url), host="127.0.0.1")
    await server.start_server()
    return server


async def test_healthz_and_front_page_without_sandbox(settings, sessionmaker):
    server = await _serve(settings, sessionmaker)
    try:
        async with ClientSession() as http:
            async with http.get(server.make_url("/healthz")) as r:
                assert r.status == 200
                assert await r.json() == {"status": "ok", "database": "ok", "sandbox": False}
            async with http.get(server.make_url("/")) as r:
                page = await r.text()
                assert r.status == 200 and "Муниципальный центр управления" in page
                assert "script-src 'self'" in r.headers["Content-Security-Policy"]
                assert r.headers["X-Frame-Options"] == "DENY"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
            async with http.get(server.make_url("/sandbox")) as r:
                assert r.status == 404  # no sandbox page with a real bot
            async with http.get(server.make_url("/"), headers={"Accept-Language": "en-US,en;q=0.9"}) as r:
                assert "Municipal control centre" in await r.text()
    finally:
        await server.close()


async def test_sandbox_chat_page_talks_to_the_sandbox(settings, sessionmaker):
    sandbox = await start_sandbox(port=0)
    server = await _serve(settings, sessionmaker, sandbox_url=sandbox.url)
    try:
        async with ClientSession() as http:
            async with http.get(server.make_url("/sandbox")) as r:
                page = await r.text()
                assert r.status == 200 and 'src="/static/sandbox.js"' in page and "<script>" not in page
            async with http.get(server.make_url("/static/sandbox.js")) as r:
                assert r.status == 200 and "sandbox/api" in await r.text()
            async with http.post(server.make_url("/sandbox/api/users"),
                                 json={"id": 42, "first_name": "Проверка"}) as r:
                assert r.status == 200
            async with http.get(server.make_url("/sandbox/api/users")) as r:
                users = (await r.json())["users"]
                assert any(u["id"] == 42 for u in users)
            async with http.post(server.make_url("/sandbox/api/send"), json={"user_id": 42, "text": "привет"}) as r:
                assert r.status == 200
            async with http.get(server.make_url("/sandbox/api/chats/42/messages")) as r:
                messages = (await r.json())["messages"]
                assert messages[-1]["text"] == "привет" and not messages[-1]["from_bot"]
            async with http.get(server.make_url("/sandbox/api/chats/999/messages")) as r:
                assert r.status == 404  # the sandbox's own error passes through
    finally:
        await server.close()
        await sandbox.stop()


async def test_healthz_reports_a_broken_database(settings):
    from db.engine import make_engine, make_sessionmaker

    engine = make_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    server = await _serve(settings, make_sessionmaker(engine))
    try:
        async with ClientSession() as http, http.get(server.make_url("/healthz")) as r:
            assert r.status == 503 and (await r.json())["status"] == "error"
    finally:
        await server.close()
        await engine.dispose()

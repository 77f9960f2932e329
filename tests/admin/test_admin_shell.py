"""The admin shell: health, front page, and the sandbox chat forwarded to the sandbox."""
from __future__ import annotations

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from admin.app import create_app
from sandbox import start_sandbox
from tests.admin.conftest import csrf_token, login, serve_admin


async def _serve(settings, sessionmaker, sandbox_url=None):
    server = TestServer(create_app(settings, sessionmaker, sandbox_url=sandbox_url), host="127.0.0.1")
    await server.start_server()
    return server


async def test_healthz_and_front_page_without_sandbox(settings, sessionmaker, make_staff):
    staff = await make_staff()
    client = await serve_admin(settings, sessionmaker)
    try:
        r = await client.get("/healthz")
        assert r.status == 200
        assert await r.json() == {"status": "ok", "database": "ok", "sandbox": False}
        r = await client.get("/login")
        page = await r.text()
        assert r.status == 200 and "Муниципальный центр управления" in page
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        await login(client, staff.login)
        r = await client.get("/")
        assert r.status == 200 and staff.name in await r.text()  # the front page, signed in
        r = await client.get("/sandbox")
        assert r.status == 404  # no sandbox page with a real bot
        assert 'href="/sandbox"' not in await r.text()  # nor a menu link to it
        r = await client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert "Municipal control centre" in await r.text()
    finally:
        await client.close()


async def test_sandbox_chat_page_talks_to_the_sandbox(settings, sessionmaker, make_staff):
    staff = await make_staff()
    sandbox = await start_sandbox(port=0)
    client = await serve_admin(settings, sessionmaker, sandbox_url=sandbox.url)
    try:
        r = await client.get("/sandbox/api/users")
        assert r.status == 401  # the chat can impersonate staff: only for signed-in staff
        await login(client, staff.login)
        r = await client.get("/sandbox")
        page = await r.text()
        assert r.status == 200 and 'src="/static/sandbox.js"' in page and "<script>" not in page
        assert 'href="/sandbox"' in page  # in the menu in sandbox mode
        r = await client.get("/static/sandbox.js")
        script = await r.text()
        assert r.status == 200 and "sandbox/api" in script and "X-CSRF-Token" in script
        r = await client.post("/sandbox/api/users", json={"id": 43, "first_name": "Без токена"})
        assert r.status == 403  # the page's script sends the header; a forged request cannot
        headers = {"X-CSRF-Token": await csrf_token(client, "/sandbox")}
        r = await client.post("/sandbox/api/users", json={"id": 42, "first_name": "Проверка"}, headers=headers)
        assert r.status == 200
        r = await client.get("/sandbox/api/users")
        users = (await r.json())["users"]
        assert any(u["id"] == 42 for u in users) and not any(u["id"] == 43 for u in users)
        r = await client.post("/sandbox/api/send", json={"user_id": 42, "text": "привет"}, headers=headers)
        assert r.status == 200
        r = await client.get("/sandbox/api/chats/42/messages")
        messages = (await r.json())["messages"]
        assert messages[-1]["text"] == "привет" and not messages[-1]["from_bot"]
        r = await client.get("/sandbox/api/chats/999/messages")
        assert r.status == 404  # the sandbox's own error passes through
    finally:
        await client.close()
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

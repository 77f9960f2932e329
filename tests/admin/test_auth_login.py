"""Signing in and out of the admin: passwords, lockout, the session cookie, redirects."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from admin.auth import COOKIE
from admin.keys import THROTTLE
from core.staff_auth import LOCK_AFTER
from db.models import AuditEntry, Staff, StaffSession
from tests.admin.conftest import PASSWORD, csrf_token, login, serve_admin


async def _post_login(client, login_name: str, password: str, next_: str = "", **headers: str):
    token = await csrf_token(client, "/login")
    return await client.post("/login", data={"login": login_name, "password": password, "csrf_token": token,
                                             "next": next_}, allow_redirects=False, headers=headers)


async def _actions(sessionmaker, staff_id: int | None = None) -> list[str]:
    async with sessionmaker() as session:
        query = select(AuditEntry.action).order_by(AuditEntry.id)
        if staff_id is not None:
            query = query.where(AuditEntry.staff_id == staff_id)
        return list(await session.scalars(query))


async def test_login_ok_lands_on_next_and_bad_password_does_not(admin_client, make_staff, sessionmaker):
    staff = await make_staff(login="ivanova")
    response = await admin_client.get("/staff", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] in ("/login?next=%2Fstaff", "/login?next=/staff")

    response = await _post_login(admin_client, "ivanova", "не тот пароль", "/staff")
    assert response.status == 401 and "Неверный логин или пароль" in await response.text()
    response = await _post_login(admin_client, "nobody", PASSWORD, "/staff")
    assert response.status == 401 and "Неверный логин или пароль" in await response.text()
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 302

    response = await _post_login(admin_client, " IVANOVA ", PASSWORD, "/staff")  # logins ignore case
    assert response.status == 302 and response.headers["Location"] == "/staff"
    page = await (await admin_client.get("/staff")).text()
    assert "Сотрудники и роли" in page and staff.name in page
    async with sessionmaker() as session:
        fresh = await session.get(Staff, staff.id)
        assert fresh.last_login_at is not None and fresh.failed_logins == 0
    assert (await _actions(sessionmaker))[-3:] == ["login.failed", "login.failed", "login.ok"]


async def test_next_never_leaves_the_site(admin_client, make_staff):
    staff = await make_staff()
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
                 "http:/evil.example", "/\t/evil.example"):
        response = await _post_login(admin_client, staff.login, PASSWORD, evil)
        assert response.status == 302 and response.headers["Location"] == "/", evil
        await admin_client.post("/logout", data={"csrf_token": await csrf_token(admin_client, "/")})
    response = await _post_login(admin_client, staff.login, PASSWORD, "/audit?action=login.ok")
    assert response.headers["Location"] == "/audit?action=login.ok"


async def test_a_cookie_from_before_logout_opens_nothing(admin_client, make_staff, sessionmaker):
    staff = await make_staff()
    await login(admin_client, staff.login)
    old_cookie = admin_client.session.cookie_jar.filter_cookies(admin_client.make_url("/"))[COOKIE].value
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 200

    response = await admin_client.post("/logout", data={"csrf_token": await csrf_token(admin_client, "/")},
                                       allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login"
    async with sessionmaker() as session:
        row = await session.scalar(select(StaffSession).where(StaffSession.staff_id == staff.id))
        assert row.revoked_at is not None
    assert "logout" in await _actions(sessionmaker, staff.id)

    # Someone kept the cookie (a shared computer, a copied header): it is refused.
    admin_client.session.cookie_jar.clear()
    admin_client.session.cookie_jar.update_cookies({COOKIE: old_cookie}, admin_client.make_url("/"))
    response = await admin_client.get("/staff", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"].startswith("/login")


async def test_ten_wrong_passwords_lock_the_account_and_the_log_says_so(
        admin_client, make_staff, sessionmaker, settings):
    staff = await make_staff()
    for attempt in range(1, LOCK_AFTER):
        response = await _post_login(admin_client, staff.login, f"неверный-{attempt}")
        assert response.status == 401
    response = await _post_login(admin_client, staff.login, "неверный-10")
    text = await response.text()
    assert response.status == 423 and "Вход временно заблокирован" in text and "Попробуйте после" in text

    # Now even the right password is refused until the lock runs out, and says until when.
    response = await _post_login(admin_client, staff.login, PASSWORD)
    assert response.status == 423
    async with sessionmaker() as session:
        fresh = await session.get(Staff, staff.id)
        until = fresh.locked_until
        assert until is not None and timedelta(minutes=14) < until - datetime.now(UTC) <= timedelta(minutes=15)
        locked = list(await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "login.locked", AuditEntry.entity_id == staff.id)
            .order_by(AuditEntry.id)))
    local = until.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M")
    assert local in text
    assert locked[0].details["failures"] == LOCK_AFTER and locked[0].details["until"] == until.isoformat()
    assert locked[1].details.get("attempt") is True  # the try with the right password, while locked
    failed = await _actions(sessionmaker, staff.id)
    assert failed.count("login.failed") == LOCK_AFTER and "login.ok" not in failed
    assert not any("неверный" in str(e) for e in locked)  # no password in the log

    # The manager sees it in the audit log page too.
    manager = await make_staff()
    await login(admin_client, manager.login)
    page = await (await admin_client.get("/audit?action=login.")).text()
    assert page.count("вход заблокирован") >= 2


async def test_the_lock_runs_out(admin_client, make_staff, sessionmaker):
    staff = await make_staff()
    async with sessionmaker() as session, session.begin():
        fresh = await session.get(Staff, staff.id)
        fresh.locked_until = datetime.now(UTC) + timedelta(minutes=5)
    assert (await _post_login(admin_client, staff.login, PASSWORD)).status == 423
    async with sessionmaker() as session, session.begin():
        fresh = await session.get(Staff, staff.id)
        fresh.locked_until = datetime.now(UTC) - timedelta(seconds=1)  # fifteen minutes later
    assert (await _post_login(admin_client, staff.login, PASSWORD)).status == 302
    async with sessionmaker() as session:
        fresh = await session.get(Staff, staff.id)
        assert fresh.locked_until is None and fresh.failed_logins == 0


async def test_unknown_logins_from_one_address_are_throttled(admin_client, make_staff, sessionmaker):
    staff = await make_staff()
    admin_client.app[THROTTLE].limit = 3
    for n in range(3):
        assert (await _post_login(admin_client, f"guess{n}", "что-угодно-1")).status == 401
    response = await _post_login(admin_client, staff.login, PASSWORD)
    assert response.status == 429 and "Слишком много неудачных попыток" in await response.text()
    assert (await _actions(sessionmaker))[-1] == "login.throttled"


async def test_the_cookie_is_httponly_lax_and_secure_over_https(admin_client, make_staff):
    staff = await make_staff()
    response = await admin_client.get("/login")
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert response.headers["Cache-Control"] == "no-store"

    token = await csrf_token(admin_client, "/login")
    response = await admin_client.post(
        "/login", data={"login": staff.login, "password": PASSWORD, "csrf_token": token},
        headers={"X-Forwarded-Proto": "https"}, allow_redirects=False)
    assert response.status == 302
    cookie = response.cookies[COOKIE]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
    # The value is Fernet-encrypted: neither the session token nor the CSRF token shows in it.
    assert cookie.value.startswith("gAAAA") and token not in cookie.value


async def test_sessions_slide_and_expire(settings, sessionmaker, make_staff):
    from core.clock import ManualClock

    clock = ManualClock(datetime.now(UTC))
    client = await serve_admin(settings, sessionmaker, clock=clock)
    try:
        staff = await make_staff()
        await login(client, staff.login)
        for _ in range(3):  # 11 hours idle, three times: each visit moves the end
            clock.advance(hours=11)
            assert (await client.get("/staff", allow_redirects=False)).status == 200
        clock.advance(hours=12, seconds=1)
        response = await client.get("/staff", allow_redirects=False)
        assert response.status == 302 and response.headers["Location"].startswith("/login")
    finally:
        await client.close()


async def test_a_password_change_ends_open_sessions(admin_client, make_staff, sessionmaker):
    from core.staff_auth import set_password

    staff = await make_staff()
    await login(admin_client, staff.login)
    async with sessionmaker() as session, session.begin():
        await set_password(session, await session.get(Staff, staff.id), "новый-пароль-2024", now=datetime.now(UTC),
                           by_staff_id=None)
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 302
    await login(admin_client, staff.login, "новый-пароль-2024")


async def test_security_headers_on_every_page(admin_client, make_staff):
    staff = await make_staff()
    await login(admin_client, staff.login)
    for path in ("/login", "/staff", "/audit", "/nope"):
        response = await admin_client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = await response.text()
        assert "<script>" not in page and "style=" not in page


async def test_the_language_switch_is_remembered(admin_client, make_staff):
    response = await admin_client.get("/login?lang=en")
    assert '<html lang="en">' in await response.text() and response.cookies["lang"].value == "en"
    page = await (await admin_client.get("/login")).text()
    assert '<html lang="en">' in page and "Municipal control centre" in page
    page = await (await admin_client.get("/login?lang=ru")).text()
    assert '<html lang="ru">' in page


async def test_a_fresh_install_says_how_to_create_the_first_admin(admin_client, make_staff):
    page = await (await admin_client.get("/login")).text()
    assert "mcu staff add --telegram-id ID --role admin --password" in page
    await make_staff()
    page = await (await admin_client.get("/login")).text()
    assert "mcu staff add" not in page

"""The one-time invite link: set a password once, then signed in; used or old links open nothing."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from core.clock import ManualClock
from core.staff_auth import create_invite
from db.models import AuditEntry, OutboxMessage, Staff, StaffInvite
from tests.admin.conftest import form_token, login, serve_admin

NEW_PASSWORD = "мой-новый-пароль-7"


async def _invite(sessionmaker, staff_id: int, now: datetime) -> str:
    async with sessionmaker() as session, session.begin():
        return await create_invite(session, await session.get(Staff, staff_id), None, now)


async def _set(client, token: str, password: str, password2: str | None = None):
    page = await (await client.get(f"/invite/{token}")).text()
    return await client.post(f"/invite/{token}", allow_redirects=False, data={
        "password": password, "password2": password if password2 is None else password2,
        "csrf_token": form_token(page)})


async def test_an_invite_sets_the_password_once_and_signs_in(admin_client, make_staff, sessionmaker):
    staff = await make_staff(password=None)  # added by the CLI without a password
    token = await _invite(sessionmaker, staff.id, datetime.now(UTC))
    async with sessionmaker() as session:
        stored = await session.scalar(select(StaffInvite).where(StaffInvite.staff_id == staff.id))
        assert stored.token_hash != token and token not in stored.token_hash  # only the hash is kept

    page = await (await admin_client.get(f"/invite/{token}")).text()
    assert staff.login in page and staff.name in page

    response = await _set(admin_client, token, "12345678901")
    assert response.status == 400 and "одних цифр" in await response.text()
    response = await _set(admin_client, token, "короткий")
    assert response.status == 400 and "не меньше 10 символов" in await response.text()
    response = await _set(admin_client, token, NEW_PASSWORD, NEW_PASSWORD + "!")
    assert response.status == 400 and "Пароли не совпадают" in await response.text()

    response = await _set(admin_client, token, NEW_PASSWORD)  # the link survived the mistakes
    assert response.status == 302 and response.headers["Location"] == "/"
    page = await (await admin_client.get("/")).text()
    assert f"Ваш логин для входа: {staff.login}" in page
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 200  # signed in

    # Used: the link opens nothing any more, for anybody.
    admin_client.session.cookie_jar.clear()
    response = await admin_client.get(f"/invite/{token}")
    assert response.status == 410 and "уже использована или устарела" in await response.text()
    token_page = await (await admin_client.get("/login")).text()
    response = await admin_client.post(f"/invite/{token}", allow_redirects=False, data={
        "password": "другой-пароль-99", "password2": "другой-пароль-99", "csrf_token": form_token(token_page)})
    assert response.status == 410
    await login(admin_client, staff.login, NEW_PASSWORD)

    async with sessionmaker() as session:
        actions = list(await session.scalars(
            select(AuditEntry.action).where(AuditEntry.entity_id == staff.id).order_by(AuditEntry.id)))
        assert ["invite.create", "password.set", "invite.use"] == [
            a for a in actions if a in ("invite.create", "password.set", "invite.use")]
        details = list(await session.scalars(select(AuditEntry.details)))
        assert not any(token in str(d) or NEW_PASSWORD in str(d) for d in details)


async def test_an_invite_expires_after_48_hours(settings, sessionmaker, make_staff):
    clock = ManualClock(datetime.now(UTC))
    client = await serve_admin(settings, sessionmaker, clock=clock)
    try:
        staff = await make_staff(password=None)
        token = await _invite(sessionmaker, staff.id, clock())
        clock.advance(hours=47, minutes=59)
        assert (await client.get(f"/invite/{token}")).status == 200
        clock.advance(minutes=2)
        assert (await client.get(f"/invite/{token}")).status == 410
        response = await _set_anyway(client, token)
        assert response.status == 410
        async with sessionmaker() as session:
            assert (await session.get(Staff, staff.id)).password_hash is None
    finally:
        await client.close()


async def _set_anyway(client, token: str):
    page = await (await client.get("/login")).text()
    return await client.post(f"/invite/{token}", allow_redirects=False, data={
        "password": NEW_PASSWORD, "password2": NEW_PASSWORD, "csrf_token": form_token(page)})


async def test_a_deactivated_member_cannot_use_an_invite(admin_client, make_staff, sessionmaker):
    staff = await make_staff(password=None)
    token = await _invite(sessionmaker, staff.id, datetime.now(UTC))
    async with sessionmaker() as session, session.begin():
        (await session.get(Staff, staff.id)).is_active = False
    assert (await admin_client.get(f"/invite/{token}")).status == 410


async def test_the_staff_page_sends_an_invite_through_the_bot(admin_client, make_staff, sessionmaker, settings):
    manager = await make_staff()
    member = await make_staff(password=None)
    await login(admin_client, manager.login)
    page = await (await admin_client.get(f"/staff/{member.id}")).text()
    response = await admin_client.post(f"/staff/{member.id}/invite", data={"csrf_token": form_token(page)})
    assert response.status == 200 and "одноразовую ссылку" in await response.text()
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == member.telegram_id))
    text = row.payload["text"]
    assert f"{settings.admin_base_url}/invite/" in text and member.login in text
    link = text.split(f"{settings.admin_base_url}", 1)[1].split()[0]

    admin_client.session.cookie_jar.clear()
    response = await _set(admin_client, link.removeprefix("/invite/"), NEW_PASSWORD)
    assert response.status == 302
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 200

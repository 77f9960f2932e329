"""Every state-changing request needs the CSRF token of the visitor's own cookie."""
from __future__ import annotations

from sqlalchemy import func, select

from db.models import Staff
from tests.admin.conftest import PASSWORD, csrf_token, login, serve_admin


async def _staff_count(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Staff)))


async def test_a_form_without_or_with_a_wrong_token_is_refused(admin_client, make_staff, sessionmaker):
    manager = await make_staff()
    await login(admin_client, manager.login)
    before = await _staff_count(sessionmaker)
    form = {"name": "Подделка", "roles": "analyst"}

    for data in (form, {**form, "csrf_token": ""}, {**form, "csrf_token": "x" * 43}):
        response = await admin_client.post("/staff", data=data, allow_redirects=False)
        page = await response.text()
        assert response.status == 403
        assert "Доступ запрещён" in page and "не совпал проверочный код" in page
    response = await admin_client.post("/staff", json={"name": "Подделка", "roles": ["analyst"]},
                                       headers={"X-CSRF-Token": "wrong"}, allow_redirects=False)
    assert response.status == 403
    assert await _staff_count(sessionmaker) == before

    # The same form with the page's token goes through; so does the header for scripts.
    token = await csrf_token(admin_client, "/staff")
    response = await admin_client.post("/staff", data={**form, "csrf_token": token}, allow_redirects=False)
    assert response.status == 302
    response = await admin_client.post("/staff", data={"name": "Второй", "roles": "analyst"},
                                       headers={"X-CSRF-Token": token}, allow_redirects=False)
    assert response.status == 302
    assert await _staff_count(sessionmaker) == before + 2


async def test_another_visitors_token_does_not_fit(settings, sessionmaker, admin_client, make_staff):
    manager = await make_staff()
    await login(admin_client, manager.login)
    stranger = await serve_admin(settings, sessionmaker)
    try:
        foreign = await csrf_token(stranger, "/login")  # an attacker's own, valid for the attacker's cookie
    finally:
        await stranger.close()
    response = await admin_client.post("/staff", data={"name": "Подделка", "roles": "analyst",
                                                       "csrf_token": foreign}, allow_redirects=False)
    assert response.status == 403


async def test_the_login_form_needs_its_token_too_and_logout_is_post_only(admin_client, make_staff):
    staff = await make_staff()
    response = await admin_client.post("/login", data={"login": staff.login, "password": PASSWORD},
                                       allow_redirects=False)
    assert response.status == 403 and "не совпал проверочный код" in await response.text()
    await login(admin_client, staff.login)
    response = await admin_client.get("/logout", allow_redirects=False)
    assert response.status == 405  # a link or an <img src> cannot sign anybody out
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 200
    response = await admin_client.post("/logout", allow_redirects=False)
    assert response.status == 403
    assert (await admin_client.get("/staff", allow_redirects=False)).status == 200


async def test_the_token_changes_at_sign_in(admin_client, make_staff):
    staff = await make_staff()
    anonymous = await csrf_token(admin_client, "/login")
    await login(admin_client, staff.login)
    signed_in = await csrf_token(admin_client, "/staff")
    assert signed_in != anonymous
    response = await admin_client.post("/staff", data={"name": "Старым токеном", "roles": "analyst",
                                                       "csrf_token": anonymous}, allow_redirects=False)
    assert response.status == 403

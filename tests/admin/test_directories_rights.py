"""Rights by role on every route of the directory and settings pages: read — head, curator, analyst
(and admin); change — head, curator (and admin); a recipient gets 403 on every page and every action."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from admin.views.dir_common import EDIT_ROLES, VIEW_ROLES
from core.demo import seed_demo_directory
from core.routing import add_official
from db.models import AuditEntry, Organisation, Role, RoutingRule
from tests.admin.dir_helpers import post, sign_in

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def demo(sessionmaker) -> dict[str, int]:
    """The demo directory and one official; the ids the dynamic routes are opened with."""
    async with sessionmaker() as session, session.begin():
        await seed_demo_directory(session, NOW)
        org = (await session.scalars(select(Organisation).order_by(Organisation.id))).first()
        rule = (await session.scalars(select(RoutingRule).order_by(RoutingRule.id))).first()
        person = await add_official(session, organisation_id=org.id, name="Петров", telegram_id=424242,
                                    staff_id=None, now=NOW)
        return {"id": 1, "org": org.id, "rule": rule.id, "staff": person.id}


def routes(app, demo: dict[str, int]) -> list[tuple[str, str, object]]:
    """(method, path with real ids, handler) of every directory and settings route."""
    found = []
    for route in app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if route.method not in ("GET", "POST") or not (path.startswith("/directories") or path == "/settings"):
            continue
        if path.startswith("/directories/organisations/"):
            path = path.replace("{id}", str(demo["org"]))
        if path.startswith("/directories/routes/"):
            path = path.replace("{id}", str(demo["rule"]))
        found.append((route.method, path.replace("{id}", "1").replace("{staff}", str(demo["staff"])), route.handler))
    return found


async def test_every_route_declares_its_roles(admin_client, demo):
    table = routes(admin_client.app, demo)
    assert len(table) >= 30
    for method, path, handler in table:
        wanted = set(EDIT_ROLES) if method == "POST" or path == "/settings" else set(VIEW_ROLES)
        assert set(handler.required_roles) == wanted, (method, path)


async def _audit_count(sessionmaker) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(AuditEntry)))


async def test_a_recipient_gets_403_everywhere(admin_client, make_staff, sessionmaker, demo):
    await sign_in(admin_client, make_staff, Role.recipient, organisation_id=demo["org"])
    before = await _audit_count(sessionmaker)
    for method, path, _ in routes(admin_client.app, demo):
        if method == "GET":
            response = await admin_client.get(path, allow_redirects=False)
        else:
            response = await post(admin_client, path, {"name": "x", "active": "0"}, page="/")
        assert response.status == 403, (method, path, response.status)
    assert await _audit_count(sessionmaker) == before  # nothing changed, nothing recorded


async def test_an_analyst_reads_every_directory_but_changes_nothing(admin_client, make_staff, sessionmaker, demo):
    await sign_in(admin_client, make_staff, Role.analyst)
    before = await _audit_count(sessionmaker)
    for method, path, _ in routes(admin_client.app, demo):
        if method == "GET":
            response = await admin_client.get(path, allow_redirects=False)
            assert response.status == (403 if path == "/settings" else 200), (path, response.status)
            if path != "/settings":
                forms = re.findall(r'<form method="post" action="([^"]+)"', await response.text())
                assert forms == ["/logout"], (path, forms)  # no form to change anything
        else:
            response = await post(admin_client, path, {"name": "x", "active": "0"}, page="/")
            assert response.status == 403, (method, path, response.status)
    assert await _audit_count(sessionmaker) == before


async def test_anonymous_visitors_are_sent_to_login(admin_client, demo):
    for method, path, _ in routes(admin_client.app, demo):
        if method == "GET":
            response = await admin_client.get(path, allow_redirects=False)
            assert response.status == 302 and response.headers["Location"].startswith("/login"), path


@pytest.mark.parametrize("role", [Role.head, Role.curator, Role.admin])
async def test_managers_open_every_page_on_demo_data(admin_client, make_staff, demo, role):
    await sign_in(admin_client, make_staff, role)
    for method, path, _ in routes(admin_client.app, demo):
        if method == "GET":
            response = await admin_client.get(path, allow_redirects=False)
            assert response.status == 200, (path, response.status)
            assert 'name="csrf_token"' in await response.text() or path == "/directories", path

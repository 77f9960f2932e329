"""Shared steps of the directory, settings and report page tests: sign in with roles, post a form the
way the page would (with its CSRF token), read the audit log."""
from __future__ import annotations

import re
from html import unescape
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import AuditEntry, Role, Staff
from tests.admin.conftest import PASSWORD, csrf_token, login


async def sign_in(client: TestClient, make_staff: Any, *roles: Role, **kw: Any) -> Staff:
    staff = await make_staff(*roles, **kw)
    await login(client, staff.login, PASSWORD)
    return staff


async def post(client: TestClient, path: str, data: dict[str, Any] | list[tuple[str, Any]], *,
               page: str = "/directories") -> ClientResponse:
    """POST like the page's form: the token comes from a page this client can open (or from the login
    page for someone who may open nothing)."""
    token = await csrf_token(client, page)
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    return await client.post(path, data=[*fields, ("csrf_token", token)], allow_redirects=False)


async def text_of(response: ClientResponse) -> str:
    return unescape(await response.text())


async def follow(client: TestClient, response: ClientResponse) -> str:
    """The page a POST redirected to, with its flash."""
    assert response.status == 303, (response.status, await response.text())
    return unescape(await (await client.get(response.headers["Location"])).text())


async def audit_entries(sessionmaker: async_sessionmaker[AsyncSession], action: str) -> list[AuditEntry]:
    async with sessionmaker() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                          .order_by(AuditEntry.id)))


def strip_tags(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())

"""The admin as a browser sees it: a live test server on the test database, a client with a cookie jar,
staff members with real argon2 passwords, and the login form filled in like a person would."""
from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from admin.app import create_app
from core import staff_auth
from core.settings import Settings
from core.staff import add_staff
from core.staff_auth import set_login, set_password
from db.models import Role, Staff

PASSWORD = "пароль-для-теста-1"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_telegram_ids = itertools.count(7_000_001)


async def serve_admin(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession],
                      **options: object) -> TestClient:
    """A started TestServer + TestClient of the admin (pytest-aiohttp is not installed)."""
    client = TestClient(TestServer(create_app(settings, sessionmaker, **options), host="127.0.0.1"))  # type: ignore[arg-type]
    await client.start_server()
    return client


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same argon2id, at a test-sized cost (1 pass over 8 MiB instead of 3 over 64 MiB): the lockout
    tests verify a dozen passwords, and production cost would make each take seconds for nothing."""
    monkeypatch.setattr(staff_auth, "HASHER", PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    monkeypatch.setattr(staff_auth, "_DUMMY", [])


@pytest.fixture
async def admin_client(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
                       ) -> AsyncIterator[TestClient]:
    client = await serve_admin(settings, sessionmaker, sandbox_url=None)
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
def make_staff(sessionmaker: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[Staff]]:
    async def make(*roles: Role, organisation_id: int | None = None, login: str | None = None,
                   password: str | None = PASSWORD, name: str | None = None) -> Staff:
        telegram_id = next(_telegram_ids)
        async with sessionmaker() as session, session.begin():
            staff, _ = await add_staff(session, telegram_id=telegram_id, roles=roles or (Role.curator,),
                                       name=name or f"Сотрудник {telegram_id}")
            staff.organisation_id = organisation_id
            await set_login(session, staff, login or f"user{telegram_id}")
            if password is not None:
                await set_password(session, staff, password, now=datetime.now(UTC), by_staff_id=None)
        return staff

    return make


def form_token(page: str) -> str:
    found = _CSRF_INPUT.search(page) or _CSRF_META.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def csrf_token(client: TestClient, path: str = "/") -> str:
    """The CSRF token of this client's cookie, read from a page like a browser has it."""
    response = await client.get(path)
    return form_token(await response.text())


async def login(client: TestClient, login: str, password: str = PASSWORD) -> None:
    """Open the login form, then post it; fails the test unless the admin lets the staff member in."""
    token = await csrf_token(client, "/login")
    response = await client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                                 allow_redirects=False)
    assert response.status == 302, f"login refused: {response.status}"


@pytest.fixture(name="login")
def login_fixture() -> Callable[[TestClient, str, str], Awaitable[None]]:
    return login


@pytest.fixture(name="csrf_token")
def csrf_token_fixture() -> Callable[..., Awaitable[str]]:
    return csrf_token

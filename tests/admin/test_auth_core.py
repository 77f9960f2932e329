"""core.staff_auth without the web: password policy, the address throttle, rehashing, inactive accounts."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core import staff_auth
from core.i18n import gettext_for
from core.staff_auth import (
    AuthError,
    IpThrottle,
    LoginOutcome,
    check_login,
    check_password_policy,
)
from db.models import AuditEntry, Staff
from tests.admin.conftest import PASSWORD

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("password", "reason"), [
    ("", "не меньше 10 символов"), ("abcdefghi", "не меньше 10 символов"),
    ("12345678901234", "одних цифр"), (" " * 12, "одних пробелов"), ("x" * 257, "не больше 256"),
])
def test_the_password_policy_explains_itself(password, reason):
    with pytest.raises(AuthError) as caught:
        check_password_policy(password)
    assert reason in str(caught.value)
    assert caught.value.localized(gettext_for("en"))  # the same message through the catalogs


def test_good_passwords_pass():
    for password in ("пароль-для-теста-1", "correct horse battery", "1234567890a"):
        check_password_policy(password)


def test_the_throttle_forgets_after_its_window_and_stays_small():
    throttle = IpThrottle(limit=2, window=timedelta(minutes=15), size=3)
    throttle.failed("10.0.0.1", NOW)
    throttle.failed("10.0.0.1", NOW + timedelta(minutes=1))
    assert throttle.blocked("10.0.0.1", NOW + timedelta(minutes=2))
    assert not throttle.blocked("10.0.0.2", NOW + timedelta(minutes=2))
    assert not throttle.blocked("10.0.0.1", NOW + timedelta(minutes=16, seconds=1))
    for n in range(10):
        throttle.failed(f"10.0.1.{n}", NOW)
    assert len(throttle._failures) == 3


async def test_an_old_hash_is_upgraded_at_login(sessionmaker, make_staff):
    staff = await make_staff()
    weak = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    async with sessionmaker() as session, session.begin():
        (await session.get(Staff, staff.id)).password_hash = weak
    async with sessionmaker() as session, session.begin():
        result = await check_login(session, staff.login, PASSWORD, now=NOW)
    assert result.outcome is LoginOutcome.ok
    async with sessionmaker() as session:
        upgraded = (await session.get(Staff, staff.id)).password_hash
    assert upgraded != weak and not staff_auth.HASHER.check_needs_rehash(upgraded)


async def test_an_inactive_account_gets_the_same_answer_as_a_wrong_password(sessionmaker, make_staff):
    staff = await make_staff()
    async with sessionmaker() as session, session.begin():
        (await session.get(Staff, staff.id)).is_active = False
    async with sessionmaker() as session, session.begin():
        result = await check_login(session, staff.login, PASSWORD, now=NOW, ip="10.1.2.3")
    assert result.outcome is LoginOutcome.bad and result.staff is None
    async with sessionmaker() as session:
        entry = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert entry.action == "login.failed" and entry.details == {"reason": "inactive"} and entry.ip == "10.1.2.3"

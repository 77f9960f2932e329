"""`mcu staff add --password`, `mcu staff password`, `mcu staff invite`: a real process on the test database,
then the admin signs in with what it set."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from db.models import AuditEntry, OutboxMessage, Role, Staff
from tests.admin.conftest import form_token, login, serve_admin

ROOT = Path(__file__).resolve().parents[2]


def mcu(settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATABASE_URL": settings.effective_database_url, "MCU_DATA_DIR": str(settings.data_dir),
                "MCU_ADMIN_URL": "https://mcu.example.ru", "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "mcu.cli", *args], check=False, cwd=settings.data_dir, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


async def test_staff_add_with_a_password_then_sign_in(settings, sessionmaker):
    result = mcu(settings, "staff", "add", "--telegram-id", "900100", "--role", "admin", "--name", "Главный Админ",
                 "--login", "Boss", "--password", stdin="короткий\n")
    assert result.returncode == 2 and "не меньше 10 символов" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    async with sessionmaker() as session:
        assert await session.scalar(select(Staff).where(Staff.telegram_id == 900100)) is None  # nothing half-done

    result = mcu(settings, "staff", "add", "--telegram-id", "900100", "--role", "admin", "--name", "Главный Админ",
                 "--login", "Boss", "--password", stdin="очень-секретный-1\n")
    assert result.returncode == 0, result.stderr
    assert "логин: boss" in result.stdout and "https://mcu.example.ru/login" in result.stdout
    assert "очень-секретный-1" not in result.stdout + result.stderr
    async with sessionmaker() as session:
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == 900100))
        assert staff.role_set == {Role.admin} and staff.password_hash.startswith("$argon2id$")
        assert await session.scalar(select(AuditEntry.action).where(AuditEntry.entity_id == staff.id)) == "password.set"

    client = await serve_admin(settings, sessionmaker)
    try:
        await login(client, "boss", "очень-секретный-1")
        for path in ("/", "/staff", "/audit"):
            assert (await client.get(path, allow_redirects=False)).status == 200, path

        result = mcu(settings, "staff", "password", "--login", "boss", stdin="другой-пароль-22\n")
        assert result.returncode == 0, result.stderr
        assert (await client.get("/staff", allow_redirects=False)).status == 302  # old sessions ended
        page = await (await client.get("/login")).text()
        response = await client.post("/login", data={"login": "boss", "password": "очень-секретный-1",
                                                     "csrf_token": form_token(page)}, allow_redirects=False)
        assert response.status == 401
        await login(client, "boss", "другой-пароль-22")
    finally:
        await client.close()



async def test_staff_invite_queues_a_working_link(settings, sessionmaker, make_staff):
    staff = await make_staff(Role.curator, password=None)  # as `mcu staff add` without --password leaves it
    result = mcu(settings, "staff", "invite", "--telegram-id", str(staff.telegram_id))
    assert result.returncode == 0, result.stderr
    link = result.stdout.strip().splitlines()[-1]
    assert link.startswith("https://mcu.example.ru/invite/")
    async with sessionmaker() as session:
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.chat_id == staff.telegram_id))
    assert link in row.payload["text"] and staff.login in row.payload["text"]

    client = await serve_admin(settings, sessionmaker)
    try:
        path = link.removeprefix("https://mcu.example.ru")
        page = await (await client.get(path)).text()
        response = await client.post(path, data={"password": "пароль-по-ссылке-1", "password2": "пароль-по-ссылке-1",
                                                 "csrf_token": form_token(page)}, allow_redirects=False)
        assert response.status == 302
        assert (await client.get("/staff", allow_redirects=False)).status == 200
    finally:
        await client.close()

"""The `mcu` command as an operator uses it: a real process, real files, real ports."""
from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from aiohttp import ClientSession

from sandbox import SandboxClient

ROOT = Path(__file__).resolve().parents[2]
NUMBER_RE = r"№ (\d{4}-\d{6})"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}, **extra)
    return env


def mcu(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mcu.cli", *args], cwd=tmp_path, env=_env(tmp_path, **extra),
                          capture_output=True, text=True, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", [[], ["run"], ["bot"], ["admin"], ["scheduler"], ["db", "upgrade"],
                                     ["staff", "add"], ["sandbox"], ["status"]])
def test_every_command_has_help(tmp_path, command):
    result = mcu(tmp_path, *command, "--help")
    assert result.returncode == 0 and "usage: mcu" in result.stdout


def test_status_shows_outbox_counts(tmp_path):
    result = mcu(tmp_path, "status")
    assert result.returncode == 0, result.stderr
    assert "в очереди:    0" in result.stdout and "отправлено:   0" in result.stdout


def test_bad_database_url_is_one_line(tmp_path):
    result = mcu(tmp_path, "db", "upgrade", MCU_DATABASE_URL="mysql://root@localhost/x")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "MCU_DATABASE_URL" in result.stderr


def test_unreachable_database_is_one_line(tmp_path):
    result = mcu(tmp_path, "db", "upgrade", MCU_DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("mcu: MCU_DATABASE_URL: cannot open the database")


def test_db_upgrade_and_staff_add(tmp_path):
    assert mcu(tmp_path, "db", "upgrade").returncode == 0
    added = mcu(tmp_path, "staff", "add", "--telegram-id", "111", "--role", "curator", "--role", "head,analyst",
                "--name", "Иванова Ольга")
    assert added.returncode == 0, added.stderr
    assert "добавлен" in added.stdout and "analyst, curator, head" in added.stdout
    again = mcu(tmp_path, "staff", "add", "--telegram-id", "111", "--role", "recipient")
    assert again.returncode == 0 and "обновлён" in again.stdout
    with sqlite3.connect(tmp_path / "data" / "mcu.db") as db:
        roles = sorted(r for (r,) in db.execute("select role from staff_roles"))
    assert roles == ["analyst", "curator", "head", "recipient"]
    bad = mcu(tmp_path, "staff", "add", "--telegram-id", "111", "--role", "king")
    assert bad.returncode == 2 and "unknown role 'king'" in bad.stderr and "curator" in bad.stderr


async def test_mcu_run_works_offline_end_to_end(tmp_path):
    """A new user's first run: everything starts, the chat address is printed, a citizen gets a number."""
    admin_port, sandbox_port = free_port(), free_port()
    env = _env(tmp_path, MCU_ADMIN_PORT=str(admin_port), MCU_SANDBOX_PORT=str(sandbox_port))
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcu.cli", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output: list[str] = []
    try:
        async def read_until(marker: str) -> None:
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), 60)
                assert line, "mcu run exited:\n" + "".join(output)
                output.append(line.decode())
                if marker in output[-1]:
                    return

        await read_until("Остановить")
        printed = "".join(output)
        assert f"http://127.0.0.1:{admin_port}/sandbox" in printed
        async with ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{admin_port}/healthz") as r:
                assert (await r.json())["sandbox"] is True
        async with SandboxClient(f"http://127.0.0.1:{sandbox_port}") as sb:
            await sb.add_user(9001, first_name="Мария")
            await sb.send_text(9001, "/start")
            greeting = await sb.wait_bot_message(9001, timeout=20)
            agree = next(b for row in greeting["reply_markup"]["inline_keyboard"] for b in row if "Согласен" in b["text"])
            await sb.press(9001, greeting["message_id"], agree["callback_data"])
            invite = await sb.wait_bot_message(9001, after=greeting["message_id"], timeout=20)
            sent = await sb.send_text(9001, "Не вывозят мусор на улице Мира")
            reply = await sb.wait_bot_message(9001, after=sent["message"]["message_id"], timeout=20)
            number = re.search(NUMBER_RE, reply["text"]).group(1)
            sent = await sb.send_text(9001, "/my")
            mine = await sb.wait_bot_message(9001, after=sent["message"]["message_id"], timeout=20)
            assert number in mine["text"] and invite["message_id"] > greeting["message_id"]
    finally:
        process.terminate()
        rest = await asyncio.wait_for(process.communicate(), 30)
        output.append(rest[0].decode())
    assert process.returncode == 0, "".join(output)
    # Personal data stays out of the log.
    assert "Мира" not in "".join(output) and "Мария" not in "".join(output)

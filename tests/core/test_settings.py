"""Settings: defaults for a bare run, and one readable line for each bad value."""
from __future__ import annotations

import pytest

from core.settings import ConfigError, load_settings


def test_bare_run_defaults(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ("MCU_BOT_TOKEN", "MCU_DATABASE_URL", "MCU_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.sandbox_mode
    assert s.effective_database_url == "sqlite+aiosqlite:///data/mcu.db"
    assert (s.admin_host, s.admin_port, s.timezone) == ("127.0.0.1", 8080, "Europe/Moscow")
    assert s.telegram_api_url == "https://api.telegram.org"


def test_env_file_is_read(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCU_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text("MCU_BOT_TOKEN=123456:ABCDEFghij_klm\nMCU_ADMIN_PORT=9000\n", encoding="utf-8")
    s = load_settings()
    assert not s.sandbox_mode and s.token == "123456:ABCDEFghij_klm" and s.admin_port == 9000
    assert "ABCDEF" not in repr(s)  # secrets never printed


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MCU_DATABASE_URL", "mysql://x", "MCU_DATABASE_URL: expected sqlite+aiosqlite"),
        ("MCU_BOT_TOKEN", "not-a-token", "MCU_BOT_TOKEN: expected the form"),
        ("MCU_TIMEZONE", "Mars/Olympus", "MCU_TIMEZONE: unknown time zone"),
        ("MCU_ADMIN_PORT", "eighty", "MCU_ADMIN_PORT:"),
    ],
)
def test_bad_values_one_line(monkeypatch, tmp_path, name, value, expected):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(expected) and "\n" not in message

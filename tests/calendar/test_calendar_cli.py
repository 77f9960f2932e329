"""`mcu calendar` as an operator runs it: a real process, a real database file."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mcu(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "mcu.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def test_help(tmp_path):
    result = mcu(tmp_path, "calendar", "--help")
    assert result.returncode == 0 and "usage: mcu calendar" in result.stdout and "рабочие дни" in result.stdout


def test_year_2026(tmp_path):
    result = mcu(tmp_path, "calendar", "2026")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Рабочих дней: 247" in out and "Выходных и праздничных дней: 118" in out
    assert "  09.01.2026 пт  Выходной (перенесено с 03.01.2026)" in out
    assert "  01.05.2026 пт  Праздник Весны и Труда" in out
    assert "  11.05.2026 пн  День Победы (выходной)" in out
    assert "  02.05.2026 сб\n" in out
    assert "04.05.2026" not in out
    assert "Январь: выходных дней 16" in out and "Май: выходных дней 12" in out and "Декабрь" in out


def test_year_2025_shows_the_working_saturday(tmp_path):
    result = mcu(tmp_path, "calendar", "2025")
    assert result.returncode == 0, result.stderr
    assert "Рабочих дней: 247" in result.stdout
    assert "Рабочие субботы и воскресенья: 01.11.2025, сб" in result.stdout
    assert "  01.11.2025" not in result.stdout  # not listed among the days off
    assert "  03.11.2025 пн" in result.stdout


# Each run starts Python and imports aiogram (~5 s here): the other cases are in test_calendar_cli_format.py.
@pytest.mark.parametrize(("args", "expected"), [
    (["2026-04-30", "+10wd"], "Срок истекает: 18.05.2026, пн, в конце рабочего дня (18:00)"),
    (["2026-04-30 17:00", "+8wh"], "Срок истекает: 04.05.2026 16:00, пн"),
    (["2026-04-30", "+30d", "--move-to-working-day"], "Срок истекает: 01.06.2026, пн (перенесено с выходного 30.05.2026)"),
])
def test_deadline(tmp_path, args, expected):
    result = mcu(tmp_path, "calendar", *args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_utc_input_is_read_in_the_district_zone(tmp_path):
    # 21:30 UTC on 29 April is already Thursday 30 April in Moscow: the 1st working day after it is 4 May.
    result = mcu(tmp_path, "calendar", "2026-04-29T21:30Z", "+1wd")
    assert result.returncode == 0, result.stderr
    assert "Срок истекает: 04.05.2026, пн" in result.stdout
    assert "Начало: 30.04.2026 00:30, чт (Europe/Moscow); срок: 1 рабочий день" in result.stdout


@pytest.mark.parametrize(("args", "reason"), [
    (["20x6"], "bad year or date '20x6'"),
    (["2026-13-01", "+1d"], "bad date '2026-13-01'"),
    (["2026-02-30", "+1d"], "bad date '2026-02-30'"),
    (["2026-04-30", "+5x"], "unknown unit 'x'"),
    (["2026-04-30", "10"], "bad duration '10'"),
    (["2026-04-30"], "needs a duration"),
    (["2026", "+5d"], "needs a date"),
    (["1812"], "out of range"),
    (["2026-04-30", "+1d", "--office-hours", "18:00-09:00"], "bad office hours"),
])
def test_bad_input_is_one_line(tmp_path, args, reason):
    result = mcu(tmp_path, "calendar", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("mcu: ") and result.stderr.strip().count("\n") == 0
    assert reason in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data" / "mcu.db").exists()  # refused before opening the database


def test_overrides_from_the_database(tmp_path):
    assert mcu(tmp_path, "db", "upgrade").returncode == 0
    with sqlite3.connect(tmp_path / "data" / "mcu.db") as db:
        db.executemany("insert into calendar_overrides (day, is_working, note) values (?, ?, ?)", [
            ("2026-05-02", 1, "Субботник"), ("2026-05-18", 0, None), ("2026-06-01", 0, "День защиты детей"),
        ])
    year = mcu(tmp_path, "calendar", "2026")
    assert year.returncode == 0, year.stderr
    assert "Рабочих дней: 246" in year.stdout
    assert "  01.06.2026 пн  выходной по решению МЦУ: День защиты детей" in year.stdout
    assert "  18.05.2026 пн  выходной по решению МЦУ" in year.stdout
    assert "  02.05.2026 сб" not in year.stdout
    assert "Рабочие субботы и воскресенья: 02.05.2026, сб" in year.stdout
    assert "Поправки МЦУ: 02.05.2026 — рабочий (Субботник); 18.05.2026 — выходной; 01.06.2026 — выходной" \
        in year.stdout
    deadline = mcu(tmp_path, "calendar", "2026-04-30", "+10wd")
    assert "Срок истекает: 15.05.2026, пт" in deadline.stdout
    moved = mcu(tmp_path, "calendar", "2026-04-30", "+30d", "--move-to-working-day")
    assert "Срок истекает: 02.06.2026, вт (перенесено с выходного 30.05.2026)" in moved.stdout

"""`mcu report` as an operator runs it: a real process on the test's database, text on stdout,
the spreadsheet in a file, one line and exit code 2 for bad input."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from mcu.cli import main
from tests.reports.hand import build

ROOT = Path(__file__).resolve().parents[2]
NOVEMBER = ("--from", "2026-11-01", "--to", "30.11.2026")


def mcu(tmp_path: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATA_DIR": str(tmp_path / "data"), "MCU_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT),
                "MCU_LOG_LEVEL": "WARNING"})
    return subprocess.run([sys.executable, "-m", "mcu.cli", "report", *args], check=False, cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)


async def test_the_summary_on_stdout(tmp_path, database_url, sessionmaker):
    await build(sessionmaker)  # 12 items received in November 2026 (tests/reports/hand.py)
    result = mcu(tmp_path, database_url, *NOVEMBER)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["📊 Отчёт МЦУ за 01.11.2026 — 30.11.2026", "Охват: весь МЦУ"]
    assert lines[2].startswith("Сравнение с 02.10.2026 — 31.10.2026; данные на ")
    assert any(line.startswith("Поступило: 12 (") for line in lines)
    assert "<b>" not in result.stdout and "&quot;" not in result.stdout
    assert "считаю показатели" in result.stderr and "рисую графики" not in result.stderr  # no charts in text


async def test_the_spreadsheet_to_a_named_file_or_the_default_name(tmp_path, database_url, sessionmaker):
    await build(sessionmaker)
    result = mcu(tmp_path, database_url, *NOVEMBER, "--format", "xlsx", "--output", "ноябрь.xlsx", "--topic", "roads")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Таблица записана: {tmp_path / 'ноябрь.xlsx'}"
    assert "готовлю таблицу" in result.stderr
    book = load_workbook(io.BytesIO((tmp_path / "ноябрь.xlsx").read_bytes()))
    assert book.sheetnames == ["Сводка", "Обращения", "Рейтинг", "Просрочено"]
    assert book["Сводка"]["A2"].value == "Охват: Дороги"
    topics = [row[5] for row in book["Обращения"].iter_rows(min_row=2, values_only=True)]
    assert topics and set(topics) == {"Дороги"}

    default = mcu(tmp_path, database_url, *NOVEMBER, "--format", "xlsx", "--channel", "im")
    assert default.returncode == 0, default.stderr
    path = tmp_path / "МЦУ_отчёт_2026-11-01_2026-11-30.xlsx"
    assert default.stdout.strip() == f"Таблица записана: {path}"
    im = load_workbook(io.BytesIO(path.read_bytes()))
    channels = {row[3] for row in im["Обращения"].iter_rows(min_row=2, values_only=True)}
    assert channels == {"«Инцидент менеджмент»"}


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, database_url, monkeypatch, capsys):
    # In this process (`mcu.cli.main`, as the console script runs it): a new process per case is slow.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MCU_DATABASE_URL", database_url)
    monkeypatch.setenv("MCU_DATA_DIR", str(tmp_path / "data"))
    for args, reason in ((("--from", "2026-13-01"), "Такой даты нет"),
                         (("--from", "30.11.2026", "--to", "01.11.2026"), "раньше начала"),
                         (("--from", "ноябрь 2026"), "одна дата"),
                         ((*NOVEMBER, "--topic", "космос"), "Нет направления «космос»"),
                         ((*NOVEMBER, "--settlement", "Атлантида"), "Нет населённого пункта")):
        code = main(["report", *args])
        out, err = capsys.readouterr()
        assert code == 2, (args, err)
        error = err.strip()
        assert error.startswith("mcu: ") and "\n" not in error and reason in error, (args, error)
        assert out == ""

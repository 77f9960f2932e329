"""`mcu import` as an operator runs it: a real process, a real file, a real database file."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from tests.cli.test_cli import mcu
from tests.imports.helpers import POS_HEADER, csv_bytes, xlsx


def _rows(n: int) -> list[list[object]]:
    return [POS_HEADER] + [[f"P-{i}", datetime(2026, 1, 1) + timedelta(minutes=i), "Дороги", "Организация парковок",
                            "", "Новодугино", "", f"Обращение {i}", "нет"] for i in range(n)]


def _items(tmp_path: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(tmp_path / "data" / "mcu.db") as db:
        return list(db.execute("select channel, external_id, status from items order by id"))


def test_import_prints_the_report_and_a_second_run_changes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "pos-march.xlsx"
    file.write_bytes(xlsx(_rows(3)))
    first = mcu(tmp_path, "import", "--channel", "pos", str(file))
    assert first.returncode == 0, first.stderr
    assert "Файл «pos-march.xlsx» (ПОС) импортирован." in first.stdout
    assert "Строк с данными: 3. Импортировано: 3." in first.stdout
    assert _items(tmp_path) == [("pos", f"P-{i}", "registered") for i in range(3)]
    again = mcu(tmp_path, "import", "--channel", "pos", str(file))
    assert again.returncode == 0, again.stderr
    assert "Импортировано: 0." in again.stdout and "пропущены: 3." in again.stdout
    assert len(_items(tmp_path)) == 3


def test_long_files_report_progress_on_stderr(tmp_path: Path) -> None:
    file = tmp_path / "big.xlsx"
    file.write_bytes(xlsx(_rows(1000)))
    result = mcu(tmp_path, "import", "--channel", "pos", str(file))
    assert result.returncode == 0, result.stderr
    assert "Обработано строк: 500 из 1000" in result.stderr and "Обработано строк: 1000 из 1000" in result.stderr
    assert len(_items(tmp_path)) == 1000


def test_a_refused_file_exits_1_and_imports_nothing(tmp_path: Path) -> None:
    file = tmp_path / "im.csv"
    file.write_bytes(csv_bytes([["Номер", "Дата создания", "Текст"], ["1", "01.03.2026", "Пост"],
                                ["2", "сегодня", "Комментарий"]], encoding="cp1251"))
    result = mcu(tmp_path, "import", "--channel", "im", str(file))
    assert result.returncode == 1
    assert "• строка 3, «Дата создания» («сегодня»): дата не распознана" in result.stdout
    assert result.stderr.strip() == "mcu: файл не импортирован, причины — в отчёте выше"
    assert _items(tmp_path) == []


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    file = tmp_path / "pos.xlsx"
    file.write_bytes(xlsx(_rows(2)))
    result = mcu(tmp_path, "import", "--channel", "pos", "--dry-run", str(file))
    assert result.returncode == 0, result.stderr
    assert "Будет импортировано: 2." in result.stdout
    assert _items(tmp_path) == []


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    missing = mcu(tmp_path, "import", "--channel", "pos", str(tmp_path / "nope.xlsx"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "no such file" in missing.stderr
    wrong = mcu(tmp_path, "import", "--channel", "vk", str(tmp_path / "nope.xlsx"))
    assert wrong.returncode == 2 and "invalid choice" in wrong.stderr
    help_ = mcu(tmp_path, "import", "--help")
    assert help_.returncode == 0 and "usage: mcu import" in help_.stdout and "--dry-run" in help_.stdout

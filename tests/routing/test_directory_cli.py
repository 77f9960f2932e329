"""`mcu org|official|route|demo` as an operator runs them: real processes, a real database file."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mcu.directory_cli import table

ROOT = Path(__file__).resolve().parents[2]


def mcu(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MCU_")}
    env.update({"MCU_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "mcu.cli", *args], check=False, cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)


def ok(tmp_path: Path, *args: str) -> str:
    result = mcu(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def refused(tmp_path: Path, *args: str) -> str:
    result = mcu(tmp_path, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("mcu: ") and result.stderr.strip().count("\n") == 0
    return result.stderr


@pytest.mark.parametrize("command", [["org"], ["org", "add"], ["org", "list"], ["org", "edit"], ["official"],
                                     ["official", "add"], ["official", "list"], ["route"], ["route", "add"],
                                     ["route", "list"], ["route", "off"], ["route", "history"],
                                     ["route", "themes"], ["demo"]])
def test_every_command_has_help(tmp_path, command):
    result = mcu(tmp_path, *command, "--help")
    assert result.returncode == 0 and f"usage: mcu {' '.join(command)}" in result.stdout


def test_argument_mistakes_exit_2(tmp_path):
    result = mcu(tmp_path, "route", "add", "--org", "жкх")
    assert result.returncode == 2 and "invalid int value" in result.stderr
    assert mcu(tmp_path, "org", "add").returncode == 2  # --name is required


def test_table_aligns_columns_and_numbers_to_the_right():
    text = table(("№", "Название", "Правил"), [(1, "Отдел ЖКХ", 12), (10, "ЦРБ", None)])
    assert text.splitlines() == [
        " №  Название   Правил",
        " 1  Отдел ЖКХ      12",
        "10  ЦРБ             —",
    ]


def test_setting_up_routing_from_the_command_line(tmp_path):
    demo = ok(tmp_path, "demo", "--items", "0")  # the directory alone (demo items: tests/core/test_demo_items.py)
    assert "Добавлено организаций: 9, правил: 14." in demo and "правило № 14: всё остальное" in demo
    assert ok(tmp_path, "demo", "--items", "0").strip() == "Демо-справочник уже на месте: ничего не добавлено."

    added = ok(tmp_path, "org", "add", "--name", "Администрация Высоковского территориального отдела",
               "--short", "Высокое", "--email", "vysokoe@novodugino.example")
    assert added.startswith("Организация добавлена: № 10 Администрация Высоковского территориального отдела "
                            "(отдел администрации), e-mail vysokoe@novodugino.example")
    official = ok(tmp_path, "official", "add", "--org", "10", "--name", "Смирнова Анна", "--telegram-id", "424242",
                  "--position", "специалист")
    assert "Исполнитель добавлен: Смирнова Анна — Администрация Высоковского" in official and "«Старт»" in official
    assert "без Telegram нужен e-mail" in refused(tmp_path, "official", "add", "--org", "10", "--name", "Без связи")

    rule = ok(tmp_path, "route", "add", "--org", "10", "--topic", "roads", "--settlement", "с. Высокое",
              "--priority", "5")
    assert rule.strip() == ("Правило № 15 добавлено: Дороги · Высокое → Администрация Высоковского "
                            "территориального отдела (приоритет 5)")
    assert "Такое правило уже есть: № 15" in refused(tmp_path, "route", "add", "--org", "6", "--topic", "roads",
                                                      "--settlement", "Высокое", "--priority", "5")
    assert "Нет направления «дождь»" in refused(tmp_path, "route", "add", "--org", "6", "--topic", "дождь")
    assert "Правило по умолчанию" in refused(tmp_path, "route", "add", "--org", "6")

    listed = ok(tmp_path, "route", "list").splitlines()
    header = listed[0]
    assert header.split() == ["№", "Направление", "Тема", "Населённый", "пункт", "Приоритет", "Организация"]
    ours = next(line for line in listed if line.lstrip().startswith("15 "))
    column = header.index("Организация")
    assert ours[column:] == "Администрация Высоковского территориального отдела"
    assert all(line[column - 2:column] == "  " for line in listed[1:])

    assert ok(tmp_path, "route", "off", "15").startswith("Правило № 15 отключено: Дороги · Высокое")
    assert "уже отключено" in refused(tmp_path, "route", "off", "15")
    assert not any(line.lstrip().startswith("15 ") for line in ok(tmp_path, "route", "list").splitlines())
    history = ok(tmp_path, "route", "history", "15").splitlines()
    assert history[0].endswith("(приоритет 5), отключено")
    assert "командная строка: создано: организация Администрация Высоковского территориального отдела; " \
           "направление Дороги; населённый пункт Высокое; приоритет 5" in history[1]
    assert history[2].endswith("командная строка: отключено")

    orgs = ok(tmp_path, "org", "list")
    ours = next(line for line in orgs.splitlines() if line.startswith("10 "))
    assert ours.split()[-3:] == ["1", "0", "действует"]  # one official, no active rules

    with sqlite3.connect(tmp_path / "data" / "mcu.db") as db:
        actions = [a for (a,) in db.execute("select action from audit_log where entity_id = 15 "
                                            "and entity = 'routing_rule' order by id")]
    assert actions == ["routing_rule.create", "routing_rule.deactivate"]

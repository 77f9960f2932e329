"""/items/export.csv and .xlsx: the filtered list as files, scoped like the list, formulas defused."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.admin.items_world import set_up_office


@pytest.fixture
async def office(settings, sessionmaker, make_staff):
    return await set_up_office(settings, sessionmaker, make_staff)


async def test_csv_holds_the_filtered_rows_with_a_header(admin_client, login, office) -> None:
    roof = await office.item("Течёт крыша", organisation=office.zhkh, address="ул. Ленина, 5")
    formula = await office.item('=HYPERLINK("http://evil.test","нажми")', organisation=office.zhkh)
    await office.item("Яма на дороге", topic=office.roads)
    await login(admin_client, "curator")
    response = await admin_client.get(f"/items/export.csv?org={office.zhkh}")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="items.csv"'
    body = await response.read()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:5] == ["Номер", "Получено", "Вид", "Канал", "Статус"]
    assert [r[0] for r in rows[1:]] == [formula.number, roof.number]
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number[roof.number][4] == "направлено исполнителю"
    assert by_number[roof.number][8] == "ул. Ленина, 5" and by_number[roof.number][9] == "Отдел ЖКХ"
    assert by_number[formula.number][-1].startswith("'=HYPERLINK")  # a spreadsheet shows it, never runs it
    assert "+79990001122" not in body.decode("utf-8-sig")  # no contacts of the citizen


async def test_xlsx_holds_the_same_rows(admin_client, login, office) -> None:
    made = [await office.item(f"Обращение {n}", organisation=office.zhkh) for n in range(3)]
    await office.item("Чужое", organisation=office.edu)
    await login(admin_client, "official")
    response = await admin_client.get("/items/export.xlsx")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = load_workbook(io.BytesIO(await response.read()), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Номер" and len(rows) == 4
    assert [r[0] for r in rows[1:]] == [i.number for i in reversed(made)]  # only the official's organisation
    assert rows[1][1].year >= 2026 and rows[1][-1] == "Обращение 2"


async def test_export_of_another_organisation_is_403(admin_client, login, office) -> None:
    await office.item(organisation=office.edu)
    await login(admin_client, "official")
    for path in (f"/items/export.csv?org={office.edu}", f"/items/export.xlsx?org={office.edu}"):
        response = await admin_client.get(path)
        assert response.status == 403, path
    response = await admin_client.get("/items/export.csv?from=bad-date")
    assert response.status == 200  # a bad value is left out, the export still comes

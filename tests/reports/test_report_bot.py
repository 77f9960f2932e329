"""`/report` over the sandbox Bot API with the real bot: the curator's buttons, typed dates, the
shortcut, the progress, the summary, the album of three charts and the spreadsheet; who is
refused or limited; forged and stale presses."""
from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from core.reports import dispose_report_engines
from tests.bot import conftest as bot_conftest
from tests.bot.dialogue_steps import button, buttons, say
from tests.bot.staff_helpers import (
    CURATOR,
    RECIPIENT,
    TEACHER,
    alert_after,
    consented_citizen,
    edited,
    registered_item,
    set_up_office,
)
from tests.reports.test_render_charts import png_size

harness = bot_conftest.harness
sandbox_server = bot_conftest.sandbox_server
CITIZEN = 5301


@pytest.fixture(autouse=True)
async def report_engines():
    yield
    await dispose_report_engines()


async def edited_to(h, user: int, message_id: int, contains: str, timeout: float = 20) -> dict[str, Any]:
    """The message, once the bot has edited it to show `contains`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        current = next(m for m in await h.sb.messages(user, after=message_id - 1) if m["message_id"] == message_id)
        if contains in (current.get("text") or ""):
            return current
        await asyncio.sleep(0.05)
    raise TimeoutError(f"message {message_id} never showed {contains!r}")


async def delivered(h, user: int, after: int, timeout: float = 20) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The album (its photos) and the spreadsheet that follow message `after`."""
    document = await h.sb.wait_bot_message(
        user, after=after, timeout=timeout, predicate=lambda m: (m.get("media") or {}).get("type") == "document")
    photos = [m for m in await h.sb.bot_messages(user, after=after)
              if (m.get("media") or {}).get("type") == "photo" and m["message_id"] < document["message_id"]]
    return photos, document


async def workbook(h, document: dict[str, Any]):
    return load_workbook(io.BytesIO(await h.sb.file_bytes(document["media"]["file_id"])))


async def items_for_the_office(h, settings, count: int = 3) -> list[int]:
    await consented_citizen(h, CITIZEN)
    return [await registered_item(h, settings, CITIZEN, f"Течёт крыша в доме {n} по ул. Ленина") for n in range(count)]


async def test_the_curator_gets_the_summary_the_album_and_the_spreadsheet_for_this_month(harness, settings):
    h = harness
    await set_up_office(h)
    await items_for_the_office(h, settings, 3)
    question = await say(h, CURATOR, "/report", "За какой период?")
    assert buttons(question)[:6] == ["Сегодня", "Неделя", "Месяц", "Квартал", "Прошлый месяц", "Другие даты…"]
    menu = await edited(h, CURATOR, question, "Месяц", "Что включить в отчёт?")
    assert menu["message_id"] == question["message_id"]  # the same message, edited
    assert {"Весь МЦУ", "Тематика", "Поселение", "Организация", "Канал"} <= set(buttons(menu))
    for data in (b["callback_data"] for row in menu["reply_markup"]["inline_keyboard"] for b in row):
        assert len(data.encode()) <= 64
    await h.sb.press(CURATOR, menu["message_id"], button(menu, "Весь МЦУ"))
    summary = await edited_to(h, CURATOR, menu["message_id"], "Поступило")
    today = datetime.now(UTC).astimezone(settings.tz).date()
    start = today.replace(day=1)
    dates = f"{today:%d.%m.%Y}" if start == today else f"{start:%d.%m.%Y} — {today:%d.%m.%Y}"
    assert summary["text"].startswith(f"📊 Отчёт МЦУ за {dates}\nОхват: весь МЦУ")
    assert "Поступило: 3" in summary["text"] and "ЖКХ 3" in summary["text"]
    assert not summary["reply_markup"]  # no buttons left to press twice

    photos, document = await delivered(h, CURATOR, menu["message_id"])
    assert len(photos) == 3 and len({p["media_group_id"] for p in photos}) == 1 and photos[0]["media_group_id"]
    assert "Графики к отчёту" in photos[0]["caption"]
    for photo in photos:
        width, _height = png_size(await h.sb.file_bytes(photo["media"]["file_id"]))
        assert width >= 1000
    assert document["media"]["file_name"] == f"МЦУ_отчёт_{start.isoformat()}_{today.isoformat()}.xlsx"
    book = await workbook(h, document)
    assert book.sheetnames == ["Сводка", "Обращения", "Рейтинг", "Просрочено"]
    assert book["Обращения"].max_row == 1 + 3
    actions = [a["action"] for a in await h.sb.actions(CURATOR)]
    assert "upload_photo" in actions and "upload_document" in actions


async def test_typed_dates_a_bad_one_first_then_a_topic(harness, settings):
    h = harness
    await set_up_office(h)
    await items_for_the_office(h, settings, 2)
    question = await say(h, CURATOR, "/report", "За какой период?")
    ask = await edited(h, CURATOR, question, "Другие даты", "Напишите период")
    assert ask["message_id"] == question["message_id"]
    await say(h, CURATOR, "32.13.2026", "Такой даты нет")
    await say(h, CURATOR, "вчера и сегодня", "Не понимаю период")  # another chance, each time
    today = datetime.now(UTC).astimezone(settings.tz).date()
    week_ago = today - timedelta(days=6)
    menu = await say(h, CURATOR, f"{week_ago:%d.%m.%Y}-{today:%d.%m.%Y}", "Что включить в отчёт?")
    topics = await edited(h, CURATOR, menu, "Тематика", "Выберите тематику")
    assert "ЖКХ" in buttons(topics) and "Дороги" in buttons(topics)
    await h.sb.press(CURATOR, topics["message_id"], button(topics, "ЖКХ"))
    summary = await edited_to(h, CURATOR, topics["message_id"], "Поступило")
    assert f"за {week_ago:%d.%m.%Y} — {today:%d.%m.%Y}" in summary["text"]
    assert "Охват: ЖКХ" in summary["text"] and "Поступило: 2" in summary["text"]
    _photos, document = await delivered(h, CURATOR, topics["message_id"])
    assert (await workbook(h, document))["Обращения"].max_row == 3


async def test_settlements_page_and_an_empty_scope_says_so(harness, settings):
    h = harness
    await set_up_office(h)
    await items_for_the_office(h, settings, 1)
    question = await say(h, CURATOR, "/report", "За какой период?")
    menu = await edited(h, CURATOR, question, "Неделя", "Что включить в отчёт?")
    places = await edited(h, CURATOR, menu, "Поселение", "Выберите поселение")
    if "След. ›" in buttons(places):  # the seeded district has more than a page of settlements
        places = await edited(h, CURATOR, places, "След. ›", "стр. 2")
        assert "‹ Пред." in buttons(places)
    back = await edited(h, CURATOR, places, "« Назад", "Что включить в отчёт?")
    channels = await edited(h, CURATOR, back, "Канал", "Выберите канал")
    await h.sb.press(CURATOR, channels["message_id"], button(channels, "ПОС"))
    summary = await edited_to(h, CURATOR, channels["message_id"], "обращений не было")
    assert "Охват: ПОС" in summary["text"]
    photos, _document = await delivered(h, CURATOR, channels["message_id"])
    assert len(photos) == 3  # charts that say there was nothing, still an album


async def test_the_shortcut_and_its_bad_dates(harness, settings):
    h = harness
    await set_up_office(h)
    await items_for_the_office(h, settings, 1)
    progress = await say(h, CURATOR, "/report month", "Отчёт за")
    summary = await edited_to(h, CURATOR, progress["message_id"], "Поступило: 1")
    assert "Охват: весь МЦУ" in summary["text"]
    await delivered(h, CURATOR, progress["message_id"])
    refused = await say(h, CURATOR, "/report 30.02.2026", "Такой даты нет")
    assert "За какой период?" in refused["text"] and "Месяц" in buttons(refused)


async def test_a_citizen_is_refused_and_a_recipient_sees_only_its_organisation(harness, settings):
    h = harness
    office = await set_up_office(h)
    await items_for_the_office(h, settings, 2)
    await consented_citizen(h, CITIZEN + 1)
    await say(h, CITIZEN + 1, "/report", "только сотрудникам")
    await say(h, CITIZEN + 1, "/report month", "только сотрудникам")

    # The teacher's organisation got nothing; the curator's items are not hers to see.
    question = await say(h, TEACHER, "/report", "За какой период?")
    await h.sb.press(TEACHER, question["message_id"], button(question, "Месяц"))  # no scope step: hers is forced
    summary = await edited_to(h, TEACHER, question["message_id"], "обращений не было")
    assert "Охват: Отдел образования" in summary["text"]
    # A forged press for another organisation is refused, not narrowed silently into a surprise.
    today = datetime.now(UTC).astimezone(settings.tz).date()
    forged = f"rps:{today:%Y%m01}:{today:%Y%m%d}:organisation:{office.zhkh}:0"
    text = await alert_after(h, TEACHER, lambda: h.sb.press(TEACHER, question["message_id"], forged, forge=True))
    assert "только по вашей организации" in text
    # «Весь МЦУ» pressed by hand is narrowed to her organisation: none of the centre's items.
    after = await h.last_id(TEACHER)
    await h.sb.press(TEACHER, question["message_id"], f"rps:{today:%Y%m01}:{today:%Y%m%d}:all::0", forge=True)
    _photos, document = await delivered(h, TEACHER, after)
    assert (await workbook(h, document))["Обращения"].max_row == 1
    summary = await edited_to(h, TEACHER, question["message_id"], "Охват: Отдел образования")
    assert "обращений не было" in summary["text"]
    # The curator's same month holds both items.
    progress = await say(h, CURATOR, "/report month", "Отчёт за")
    _photos, document = await delivered(h, CURATOR, progress["message_id"])
    assert (await workbook(h, document))["Обращения"].max_row == 3


async def test_forged_and_stale_presses_are_answered_politely(harness, settings):
    h = harness
    await set_up_office(h)
    await consented_citizen(h, CITIZEN)
    question = await say(h, CURATOR, "/report", "За какой период?")
    today = datetime.now(UTC).astimezone(settings.tz).date()
    # A citizen pressing the curator's button data.
    text = await alert_after(h, CITIZEN, lambda: h.sb.press(
        CITIZEN, question["message_id"], f"rps:{today:%Y%m01}:{today:%Y%m%d}:all::0", forge=True))
    assert "только сотрудникам" in text
    # Dates nobody could have been offered; an id that does not exist; a step that does not exist.
    for data, answer in ((f"rps:19990101:{today:%Y%m%d}:all::0", "слишком длинный"),
                         ("rps:2026xx01:20261130:all::0", "больше не действует"),
                         (f"rps:{today:%Y%m01}:{today:%Y%m%d}:topic:999999:0", "Такого выбора нет"),
                         (f"rps:{today:%Y%m01}:{today:%Y%m%d}:delete:1:0", "больше не действует"),
                         ("rpp:forever", "больше не действует")):
        text = await alert_after(h, CURATOR, lambda d=data: h.sb.press(CURATOR, question["message_id"], d, forge=True))
        assert answer in text, (data, text)
    # A recipient cannot make itself the centre's choices by hand.
    own = await say(h, RECIPIENT, "/report", "За какой период?")
    for what in ("topic:1", "settlement:", "menu:"):
        text = await alert_after(h, RECIPIENT, lambda w=what: h.sb.press(
            RECIPIENT, own["message_id"], f"rps:{today:%Y%m01}:{today:%Y%m%d}:{w}:0", forge=True))
        assert "только по вашей организации" in text


async def test_this_month_on_seeded_demo_data(harness, settings, database_url):
    """The demo district of bench/datagen.py (three months of items, answers, surveys, events)."""
    from bench.datagen import generate

    h = harness
    await generate(database_url, 3000, months=3, now=datetime.now(UTC))
    curator = await h.user(700_001, first_name="Ольга")  # datagen's curator
    # This month (early on the 1st it may hold nothing yet: then it says so), then the previous one.
    for period in ("Месяц", "Прошлый месяц"):
        question = await say(h, curator, "/report", "За какой период?")
        menu = await edited(h, curator, question, period, "Что включить в отчёт?")
        await h.sb.press(curator, menu["message_id"], button(menu, "Весь МЦУ"))
        summary = await edited_to(h, curator, menu["message_id"], "Охват: весь МЦУ", timeout=60)
        assert "Просрочено сейчас:" in summary["text"] and len(summary["text"]) <= 4096
        photos, document = await delivered(h, curator, menu["message_id"], timeout=60)
        assert len(photos) == 3
        book = await workbook(h, document)
        assert book.sheetnames == ["Сводка", "Обращения", "Рейтинг", "Просрочено"]
        assert book["Просрочено"].max_row > 1
    for part in ("Поступило:", "По тематикам:", "Дано ответов:", "Первая реакция:", "Довольны:"):
        assert part in summary["text"], part  # a whole month of the demo district
    assert book["Обращения"].max_row > 500 and book["Рейтинг"].max_row > 1

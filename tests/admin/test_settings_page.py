"""/settings: every run-time option of core/options.py as one form; a change is audited and read back by
load_options; one bad value saves nothing; the process settings are shown without secrets."""
from __future__ import annotations

from pydantic import SecretStr

from core.options import PARSERS, REMINDER_STEPS, load_options
from db.models import Role
from tests.admin.conftest import serve_admin
from tests.admin.dir_helpers import (
    audit_entries,
    follow,
    post,
    sign_in,
    strip_tags,
    text_of,
)


async def _form(sessionmaker) -> list[tuple[str, str]]:
    """The form as the page sends it untouched: every option at its current value."""
    async with sessionmaker() as session:
        options = await load_options(session)
    data: list[tuple[str, str]] = []
    for name in PARSERS:
        value = getattr(options, name)
        if isinstance(value, bool):
            if value:
                data.append((name, "1"))
        elif isinstance(value, tuple):
            data += [(name, v) for v in value]
        else:
            data.append((name, "" if value is None else str(value)))
    return data


def _with(data: list[tuple[str, str]], **changes: object) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in data if k not in changes]
    for name, value in changes.items():
        if isinstance(value, list):
            out += [(name, v) for v in value]
        elif value is not False:
            out.append((name, "1" if value is True else str(value)))
    return out


async def test_every_option_is_on_the_page(admin_client, make_staff):
    await sign_in(admin_client, make_staff, Role.head)
    page = await text_of(await admin_client.get("/settings"))
    for name in PARSERS:
        assert f'id="opt-{name}"' in page, name
    assert "Чат руководителя" in page and "Еженедельный отчёт: день" in page
    assert page.count('name="reminder_plan"') == len(REMINDER_STEPS)
    assert page.count('name="review_topics"') == 9


async def test_a_change_is_audited_and_read_back(admin_client, make_staff, sessionmaker):
    head = await sign_in(admin_client, make_staff, Role.head)
    data = _with(await _form(sessionmaker), head_chat_id="-1001234567890", survey_delay_minutes="90",
                 auto_route=True, reminder_plan=["half", "overdue_daily"], review_mode="topics",
                 review_topics=["housing", "roads"], weekly_digest_day="5", digest_time="8:30")
    response = await post(admin_client, "/settings", data, page="/settings")
    page = strip_tags(await follow(admin_client, response))
    assert "Сохранено: " in page and "Чат руководителя" in page
    async with sessionmaker() as session:
        options = await load_options(session)
    assert options.head_chat_id == -1001234567890 and options.survey_delay_minutes == 90 and options.auto_route
    assert options.reminder_plan == ("half", "overdue_daily") and options.review_topics == ("housing", "roads")
    assert (options.review_mode, options.weekly_digest_day, options.digest_time) == ("topics", 5, "08:30")
    entries = await audit_entries(sessionmaker, "setting.change")
    assert sorted(e.details["name"] for e in entries) == sorted(
        ["head_chat_id", "survey_delay_minutes", "auto_route", "reminder_plan", "review_mode", "review_topics",
         "weekly_digest_day", "digest_time"])
    assert all(e.staff_id == head.id and e.ip == "127.0.0.1" for e in entries)
    # Sent again unchanged: nothing is written.
    response = await post(admin_client, "/settings", await _form(sessionmaker), page="/settings")
    assert "Ничего не изменилось." in await follow(admin_client, response)
    assert len(await audit_entries(sessionmaker, "setting.change")) == len(entries)
    # A box unticked is a change too.
    await post(admin_client, "/settings", _with(await _form(sessionmaker), auto_route=False), page="/settings")
    async with sessionmaker() as session:
        assert not (await load_options(session)).auto_route


async def test_one_bad_value_saves_nothing(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.curator)
    data = _with(await _form(sessionmaker), survey_delay_minutes="30", curator_chat_id="@mcu_group",
                 digest_time="25:00")
    response = await post(admin_client, "/settings", data, page="/settings")
    page = await text_of(response)
    assert response.status == 400
    assert "Чат куратора: ожидается числовой id чата Telegram" in page
    assert "Утренняя сводка: ожидается время ЧЧ:ММ" in page and "Настройки не сохранены" in page
    assert 'value="@mcu_group"' in page and 'value="30"' in page  # what was typed stays
    async with sessionmaker() as session:
        options = await load_options(session)
    assert options.survey_delay_minutes == 60 and options.curator_chat_id is None
    assert await audit_entries(sessionmaker, "setting.change") == []


async def test_only_managers(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.analyst)
    assert (await admin_client.get("/settings")).status == 403
    response = await post(admin_client, "/settings", _with(await _form(sessionmaker), auto_route=True), page="/")
    assert response.status == 403
    async with sessionmaker() as session:
        assert not (await load_options(session)).auto_route


async def test_process_settings_without_secrets(settings, sessionmaker, make_staff):
    secret = settings.model_copy(update={
        "smtp_url": "smtp://mailer:TopSecret42@127.0.0.1:1025",
        "bot_token": SecretStr("123456:ABCDEFsecrettoken"),
        "admin_url": "https://mcu.example.ru"})
    client = await serve_admin(secret, sessionmaker, sandbox_url=None)
    try:
        await sign_in(client, make_staff, Role.admin)
        page = await text_of(await client.get("/settings"))
        text = strip_tags(page)
        assert "настоящий Telegram-бот" in text and "Почта (SMTP) включена" in text
        assert "https://mcu.example.ru" in text and ("SQLite" in text or "PostgreSQL" in text)
        assert "TopSecret42" not in page and "secrettoken" not in page and "mailer" not in page
    finally:
        await client.close()

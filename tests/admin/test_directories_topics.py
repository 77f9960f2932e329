"""/directories/topics: the nine topics with their themes; add, rename, move and switch off a theme;
a topic's name and «ускоренное решение»."""
from __future__ import annotations

from sqlalchemy import select

from db.models import Role, Theme, Topic
from tests.admin.dir_helpers import audit_entries, follow, post, sign_in, text_of


async def _topic(sessionmaker, code: str) -> Topic:
    async with sessionmaker() as session:
        return (await session.scalars(select(Topic).where(Topic.code == code))).one()


async def _theme(sessionmaker, name: str) -> Theme | None:
    async with sessionmaker() as session:
        return (await session.scalars(select(Theme).where(Theme.name == name))).one_or_none()


async def test_the_list_shows_nine_topics_with_their_themes(admin_client, make_staff):
    await sign_in(admin_client, make_staff, Role.analyst)
    page = await text_of(await admin_client.get("/directories/topics"))
    for name in ("Здравоохранение", "Образование", "Социальная защита", "ЖКХ", "ТКО", "Дороги", "Транспорт",
                 "Энергетика", "Прочее"):
        assert f"<b>{name}</b>" in page
    assert "Отсутствие холодной воды" in page and "Мусор/Свалки/ТКО" in page
    index = await text_of(await admin_client.get("/directories"))
    assert "<b>9</b> направлений" in index


async def test_add_a_theme_audited_with_who_and_where(admin_client, make_staff, sessionmaker):
    curator = await sign_in(admin_client, make_staff, Role.curator)
    roads = await _topic(sessionmaker, "roads")
    response = await post(admin_client, "/directories/themes",
                          {"topic_id": roads.id, "group_name": "", "name": "Наледь на тротуаре"})
    page = await follow(admin_client, response)
    assert "Тема «Наледь на тротуаре» добавлена" in page and "Наледь на тротуаре</a>" in page
    theme = await _theme(sessionmaker, "Наледь на тротуаре")
    assert theme is not None and theme.topic_id == roads.id and theme.group_name == "Дороги"
    [entry] = await audit_entries(sessionmaker, "theme.create")
    assert (entry.staff_id, entry.ip, entry.entity_id) == (curator.id, "127.0.0.1", theme.id)


async def test_a_bad_theme_is_refused_in_words_and_the_form_keeps_it(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.head)
    roads = await _topic(sessionmaker, "roads")
    response = await post(admin_client, "/directories/themes",
                          {"topic_id": roads.id, "group_name": "ЖКХ", "name": "отсутствие  холодной воды"})
    page = await text_of(response)
    assert response.status == 400
    assert "Тема «Отсутствие холодной воды» в группе «ЖКХ» уже есть" in page
    assert 'value="отсутствие  холодной воды"' in page and 'value="ЖКХ"' in page  # what was typed
    response = await post(admin_client, "/directories/themes", {"topic_id": "", "name": "Без направления"})
    assert response.status == 400 and "Выберите направление." in await text_of(response)
    response = await post(admin_client, "/directories/themes", {"topic_id": "abc", "name": "Х"})
    assert response.status == 400 and "Ожидается целое число (направление): «abc»" in await text_of(response)
    assert await audit_entries(sessionmaker, "theme.create") == []
    assert await _theme(sessionmaker, "Без направления") is None


async def test_rename_move_and_switch_off_a_theme(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.curator)
    theme = await _theme(sessionmaker, "Ямы и выбоины на дороге")
    assert theme is not None
    other = await _topic(sessionmaker, "transport")
    page = await text_of(await admin_client.get(f"/directories/themes/{theme.id}"))
    assert f'value="{theme.name}"' in page
    response = await post(admin_client, f"/directories/themes/{theme.id}",
                          {"name": "Выбоины", "group_name": theme.group_name, "topic_id": other.id})
    assert "Тема «Выбоины» сохранена." in await follow(admin_client, response)
    response = await post(admin_client, f"/directories/themes/{theme.id}/active", {"active": "0", "topic": other.id})
    assert response.headers["Location"] == f"/directories/topics#topic-{other.id}"
    assert "Тема «Выбоины» отключена." in await follow(admin_client, response)
    moved = await _theme(sessionmaker, "Выбоины")
    assert moved is not None and moved.topic_id == other.id and not moved.is_active
    update = (await audit_entries(sessionmaker, "theme.update"))[0]
    assert update.details["new"] == {"topic_id": other.id, "name": "Выбоины"}
    response = await post(admin_client, f"/directories/themes/{theme.id}", {"name": "", "group_name": "Х",
                                                                            "topic_id": other.id})
    assert response.status == 400 and "Нужно указать название темы." in await text_of(response)


async def test_a_topic_name_and_the_accelerated_mark(admin_client, make_staff, sessionmaker):
    await sign_in(admin_client, make_staff, Role.head)
    waste = await _topic(sessionmaker, "waste")
    response = await post(admin_client, f"/directories/topics/{waste.id}",
                          {"name_ru": "ТКО и свалки", "name_en": "Waste", "accelerated": "1"})
    assert "Направление «ТКО и свалки» сохранено." in await follow(admin_client, response)
    saved = await _topic(sessionmaker, "waste")
    assert (saved.name_ru, saved.name_en, saved.accelerated) == ("ТКО и свалки", "Waste", True)
    # Unticked: the checkbox is not sent at all.
    await post(admin_client, f"/directories/topics/{waste.id}", {"name_ru": "ТКО и свалки", "name_en": "Waste"})
    assert not (await _topic(sessionmaker, "waste")).accelerated
    response = await post(admin_client, f"/directories/topics/{waste.id}", {"name_ru": "Дороги", "name_en": "W"})
    page = await text_of(response)
    assert response.status == 400 and "Направление «Дороги» уже есть." in page
    assert [e.action for e in await audit_entries(sessionmaker, "topic.update")] == ["topic.update"] * 2

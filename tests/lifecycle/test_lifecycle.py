"""The lifecycle service on a real database: every action's status, history and outbox rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle as lc
from core.actors import SYSTEM, Actor
from core.intake import FileIn
from core.lifecycle import TransitionError
from core.options import set_option
from core.settings import Settings
from core.staff import add_staff
from db.models import (
    Attachment,
    Channel,
    Citizen,
    Item,
    ItemKind,
    ItemMessage,
    Organisation,
    OutboxMessage,
    Resolution,
    Role,
    RoutingRule,
    Settlement,
    Status,
    Topic,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
_numbers = count(1)


class World:
    def __init__(self, session: AsyncSession, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.now = NOW

    async def ctx(self) -> lc.LifecycleContext:
        return await lc.lifecycle_context(self.session, self.settings, self.now)

    async def outbox(self, chat_id: int | None = None, email: str | None = None) -> list[OutboxMessage]:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        if email is not None:
            query = query.where(OutboxMessage.email == email)
        await self.session.flush()
        return list((await self.session.scalars(query)).all())

    async def texts(self, chat_id: int) -> list[str]:
        return [r.payload.get("text", r.payload.get("caption", "")) for r in await self.outbox(chat_id)]


@pytest.fixture
async def w(sessionmaker: async_sessionmaker[AsyncSession], settings: Settings):
    async with sessionmaker() as session:
        world = World(session, settings)
        session.add_all([
            Organisation(name="Отдел ЖКХ", email="zhkh@example.test"),
            Organisation(name="Отдел образования"),
            Organisation(name="МУП «Водоканал»", email="vk@example.test"),
        ])
        await session.flush()
        world.zhkh = await session.scalar(select(Organisation).where(Organisation.name == "Отдел ЖКХ"))
        world.edu = await session.scalar(select(Organisation).where(Organisation.name == "Отдел образования"))
        world.vk = await session.scalar(select(Organisation).where(Organisation.name == "МУП «Водоканал»"))
        # The reference seed puts the district's settlements in (core/seed.py).
        world.village = await session.scalar(select(Settlement).where(Settlement.name == "Новодугино"))
        world.housing = await session.scalar(select(Topic).where(Topic.code == "housing"))
        world.curator, _ = await add_staff(session, telegram_id=9001, roles=[Role.curator], name="Куратор")
        world.recipient, _ = await add_staff(session, telegram_id=9002, roles=[Role.recipient], name="Иванов")
        world.recipient.organisation_id = world.zhkh.id
        world.colleague, _ = await add_staff(session, telegram_id=9003, roles=[Role.recipient], name="Петров")
        world.colleague.organisation_id = world.zhkh.id
        world.teacher, _ = await add_staff(session, telegram_id=9004, roles=[Role.recipient], name="Сидорова")
        world.teacher.organisation_id = world.edu.id
        world.mailer, _ = await add_staff(session, telegram_id=None, roles=[Role.recipient], name="Почтовый",
                                          email="official@example.test")
        world.mailer.organisation_id = world.vk.id
        world.citizen = Citizen(telegram_id=5001, first_name="Анна", consent_at=NOW)
        session.add(world.citizen)
        session.add(RoutingRule(topic_id=world.housing.id, organisation_id=world.zhkh.id))
        await session.flush()
        yield world
        await session.rollback()


async def registered(w: World, *, kind: str = ItemKind.appeal, text: str = "Течёт крыша в доме 5",
                     citizen: Citizen | None = None, channel: str = Channel.bot, topic: bool = True,
                     files: int = 0) -> Item:
    citizen = citizen or w.citizen
    item = Item(number=f"2026-{next(_numbers):06d}", kind=kind, channel=channel, status=Status.received,
                citizen_id=citizen.id, text=text, received_at=w.now,
                topic_id=w.housing.id if topic else None, settlement_id=w.village.id)
    w.session.add(item)
    await w.session.flush()
    for n in range(files):
        w.session.add(Attachment(item_id=item.id, kind="photo", telegram_file_id=f"photo-{item.id}-{n}"))
    ctx = await w.ctx()
    lc.transition(w.session, item, Status.registered, Actor.citizen(citizen.id), w.now)
    from core.deadlines import set_deadlines

    await set_deadlines(w.session, item, w.now, ctx.deadlines.calendar, ctx.deadlines.book)
    await lc.after_registration(ctx, item)
    return item


async def test_registration_sends_the_triage_card_with_the_suggested_route(w: World) -> None:
    item = await registered(w, files=1)
    assert item.suggested_organisation_id == w.zhkh.id
    rows = await w.outbox(9001)
    assert rows[0].payload["text"].startswith("<b>Новое на распределение</b>")
    buttons = [b["callback_data"] for row in rows[0].payload["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == [f"it:route:{item.id}", f"it:pick:{item.id}"]
    assert rows[1].method == "sendPhoto" and rows[1].payload["photo"] == f"photo-{item.id}-0"


async def test_auto_routing_when_the_option_allows_and_one_rule_matches(w: World) -> None:
    await set_option(w.session, "auto_route", True, staff_id=None, now=w.now)
    item = await registered(w)
    assert item.status == Status.assigned and item.organisation_id == w.zhkh.id
    assert await w.outbox(9001) == []  # no triage card
    assert "Вам направлено" in (await w.texts(9002))[0]


async def test_the_whole_way_with_review_rework_and_delivery(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, Actor.staff(w.curator.id))
    assert item.status == Status.assigned
    # Both officials of the organisation get the card; the citizen learns where it went.
    for chat in (9002, 9003):
        card = (await w.outbox(chat))[-1]
        assert "Вам направлено" in card.payload["text"]
        assert {b["callback_data"] for row in card.payload["reply_markup"]["inline_keyboard"] for b in row} == {
            f"it:accept:{item.id}", f"it:notours:{item.id}"}
    assert "передано исполнителю: Отдел ЖКХ" in (await w.texts(5001))[-1]

    await lc.accept(ctx, item, w.recipient)
    assert item.status == Status.in_work and item.assignee_id == w.recipient.id
    assert item.first_reaction_at == w.now

    w.now += timedelta(hours=2)
    ctx = await w.ctx()
    due_before = item.due_answer_at
    await lc.ask_citizen(ctx, item, w.recipient, "Какой подъезд?")
    assert item.paused_since == w.now
    question = (await w.outbox(5001))[-1]
    assert "Какой подъезд?" in question.payload["text"]
    assert question.payload["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"it:reply:{item.id}"

    w.now += timedelta(days=1)
    ctx = await w.ctx()
    await lc.citizen_reply(ctx, item, w.citizen, "Второй", [FileIn("photo", "reply-photo")])
    assert item.paused_since is None and item.due_answer_at == due_before + timedelta(days=1)
    relayed = await w.outbox(9002)
    assert "Ответ заявителя" in relayed[-2].payload["text"] and "Второй" in relayed[-2].payload["text"]
    assert relayed[-1].payload["photo"] == "reply-photo"
    assert "5001" not in relayed[-2].payload["text"]  # the citizen's chat is never shown

    await lc.answer(ctx, item, w.recipient, "Крышу починим до пятницы", [FileIn("document", "act-1")])
    assert item.status == Status.under_review
    review = [r for r in await w.outbox(9001) if "Ответ на проверку" in r.payload.get("text", "")][-1]
    assert "Крышу починим до пятницы" in review.payload["text"]
    assert [b["callback_data"] for b in review.payload["reply_markup"]["inline_keyboard"][0]] == [
        f"it:approve:{item.id}", f"it:rework:{item.id}"]

    await lc.return_for_rework(ctx, item, w.curator, "Укажите точную дату")
    assert item.status == Status.returned
    assert "Укажите точную дату" in (await w.texts(9002))[-1]

    with pytest.raises(TransitionError):
        await lc.approve(ctx, item, w.curator)  # nothing on review now

    await lc.answer(ctx, item, w.recipient, "Крышу починим 6 марта", [FileIn("document", "act-2")])
    await lc.approve(ctx, item, w.curator)
    assert item.status == Status.delivered and item.delivered_at == w.now
    to_citizen = await w.outbox(5001)
    assert "Крышу починим 6 марта" in to_citizen[-2].payload["text"]
    assert to_citizen[-1].method == "sendDocument" and to_citizen[-1].payload["document"] == "act-2"
    assert "утверждён" in (await w.texts(9002))[-1]

    await lc.close(ctx, item, Actor.citizen(w.citizen.id), Resolution.satisfied)
    assert item.status == Status.closed and item.resolution == Resolution.satisfied
    with pytest.raises(TransitionError):
        await lc.answer(ctx, item, w.recipient, "Ещё ответ")

    statuses = [(e.old_value, e.new_value) for e in await lc.history(w.session, item.id) if e.action == "status"]
    assert statuses == [
        ("received", "registered"), ("registered", "assigned"), ("assigned", "in_work"),
        ("in_work", "answered"), ("answered", "under_review"), ("under_review", "returned"),
        ("returned", "in_work"), ("in_work", "answered"), ("answered", "under_review"),
        ("under_review", "delivered"), ("delivered", "closed"),
    ]


async def test_without_review_the_answer_goes_straight_to_the_citizen(w: World) -> None:
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.answer(ctx, item, w.recipient, "Готово")
    assert item.status == Status.delivered
    assert "Готово" in (await w.texts(5001))[-1]


async def test_review_for_chosen_topics_only(w: World) -> None:
    await set_option(w.session, "review_mode", "topics", staff_id=None, now=w.now)
    await set_option(w.session, "review_topics", "roads", staff_id=None, now=w.now)
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.answer(ctx, item, w.recipient, "Готово")
    assert item.status == Status.delivered  # housing is not on the list


async def test_redirect_is_recorded_and_moves_the_deadline(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    first_due = item.due_answer_at
    w.now += timedelta(days=3)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.edu.id, Actor.staff(w.curator.id), comment="это школа")
    assert item.status == Status.assigned and item.organisation_id == w.edu.id
    assert item.due_answer_at > first_due
    actions = [(e.action, e.old_value, e.new_value) for e in await lc.history(w.session, item.id)]
    assert ("status", "assigned", "redirected") in actions
    assert ("route", str(w.zhkh.id), str(w.edu.id)) in actions
    assert "Вам перенаправлено" in (await w.texts(9004))[-1]
    with pytest.raises(TransitionError, match="уже у этой организации"):
        await lc.assign(ctx, item, w.edu.id, SYSTEM)


async def test_an_official_without_telegram_gets_the_card_by_email(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.vk.id, SYSTEM)
    mails = await w.outbox(email="official@example.test")
    assert len(mails) == 1 and mails[0].transport == "email"
    assert mails[0].payload["subject"] == f"МЦУ: № {item.number}"
    assert f"{w.settings.admin_base_url}/items/{item.id}" in mails[0].payload["text"]
    assert "<b>" not in mails[0].payload["text"]


async def test_not_ours_goes_back_to_triage_with_the_reason(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.return_not_ours(ctx, item, w.recipient, "Это сети Водоканала")
    assert item.status == Status.registered and item.organisation_id is None
    card = [r for r in await w.outbox(9001) if "не наше" in r.payload.get("text", "")][-1]
    assert "Это сети Водоканала" in card.payload["text"]
    with pytest.raises(TransitionError, match="Нужен текст"):
        await lc.return_not_ours(ctx, item, w.recipient, "  ")


async def test_extension_once_approved_by_the_curator_and_the_citizen_told(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.accept(ctx, item, w.recipient)
    due = item.due_answer_at
    await lc.request_extension(ctx, item, w.recipient, "Нужна экспертиза")
    with pytest.raises(TransitionError, match="уже отправлен"):
        await lc.request_extension(ctx, item, w.recipient, "Ещё раз")
    request = (await w.outbox(9001))[-1]
    assert [b["callback_data"] for b in request.payload["reply_markup"]["inline_keyboard"][0]] == [
        f"it:extyes:{item.id}", f"it:extno:{item.id}"]
    await lc.decide_extension(ctx, item, w.curator, True)
    # 30 calendar days; 1 May 2026 is a holiday, so the deadline moves to the next working day.
    assert item.extended and item.due_answer_at == ctx.deadlines.calendar.add(due, "30d")
    assert item.due_answer_at.astimezone(w.settings.tz).date().isoformat() == "2026-05-04"
    assert "продлён" in (await w.texts(5001))[-1]
    with pytest.raises(TransitionError, match="один раз"):
        await lc.request_extension(ctx, item, w.recipient, "И ещё")
    with pytest.raises(TransitionError, match="нет запроса"):
        await lc.decide_extension(ctx, item, w.curator, True)


async def test_withdraw_only_by_the_owner_and_only_while_open(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    stranger = Citizen(telegram_id=5002, consent_at=NOW)
    w.session.add(stranger)
    await w.session.flush()
    with pytest.raises(TransitionError, match="не ваше"):
        await lc.withdraw(ctx, item, stranger)
    await lc.withdraw(ctx, item, w.citizen)
    assert item.status == Status.withdrawn
    assert "отозвал" in (await w.texts(9002))[-1]
    with pytest.raises(TransitionError, match="нельзя отозвать"):
        await lc.withdraw(ctx, item, w.citizen)


async def test_reopen_tells_the_organisation_why(w: World) -> None:
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.answer(ctx, item, w.recipient, "Сделано")
    await lc.reopen(ctx, item, Actor.citizen(w.citizen.id), "Крыша всё ещё течёт")
    assert item.status == Status.reopened
    assert "Крыша всё ещё течёт" in (await w.texts(9002))[-1]
    assert any("недоволен" in t for t in await w.texts(9001))
    reason = await w.session.scalar(select(ItemMessage).where(ItemMessage.kind == "reopen"))
    assert reason is not None and reason.author_citizen_id == w.citizen.id
    await lc.accept(ctx, item, w.recipient)
    assert item.status == Status.in_work


async def test_repeat_items_by_cited_number_and_by_topic_and_place(w: World) -> None:
    first = await registered(w)
    cited = await registered(w, text=f"Повторно пишу, см. {first.number}", topic=False)
    assert cited.repeat_of_id == first.id
    w.now += timedelta(days=10)
    same_place = await registered(w, text="Опять течёт")
    assert same_place.repeat_of_id is not None
    w.now += timedelta(days=40)
    later = await registered(w, text="Снова")
    assert later.repeat_of_id is None or later.repeat_of_id == same_place.id
    other = Citizen(telegram_id=5003, consent_at=NOW)
    w.session.add(other)
    await w.session.flush()
    stranger_item = await registered(w, citizen=other, text=f"Как у соседа {first.number}")
    assert stranger_item.repeat_of_id is None  # someone else's number is not a repeat of theirs


async def test_rights_by_role_and_organisation(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    assert lc.may(w.curator, item, "route") and lc.may(w.curator, item, "approve")
    assert not lc.may(w.recipient, item, "accept")  # not yet theirs
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    assert lc.may(w.recipient, item, "answer") and lc.may(w.colleague, item, "answer")
    assert not lc.may(w.teacher, item, "answer")
    assert not lc.may(w.recipient, item, "approve") and not lc.may(w.recipient, item, "route")
    assert not lc.may(None, item, "card")
    w.recipient.is_active = False
    assert not lc.may(w.recipient, item, "answer")


async def test_two_officials_answering_one_wins(w: World) -> None:
    item = await registered(w)
    ctx = await w.ctx()
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    await lc.answer(ctx, item, w.recipient, "Первый ответ")
    with pytest.raises(TransitionError) as refused:
        await lc.answer(ctx, item, w.colleague, "Второй ответ")
    assert "на проверке" in str(refused.value)
    english = refused.value.localized(__import__("core.i18n", fromlist=["x"]).gettext_for("en"))
    assert english  # rendered without a KeyError in either language


async def test_no_telegram_citizen_gets_the_answer_by_email_or_the_centre_posts_it(w: World) -> None:
    await set_option(w.session, "review_mode", "never", staff_id=None, now=w.now)
    offline = Citizen(full_name="Петров П. П.", phone="+79990000000")
    w.session.add(offline)
    await w.session.flush()
    by_mail = await registered(w, citizen=offline)
    by_mail.reply_address = "petrov@example.test"
    by_post = await registered(w, citizen=offline)
    by_post.reply_address = "д. Тесово, ул. Луговая, 3"
    ctx = await w.ctx()
    for item in (by_mail, by_post):
        await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
        with pytest.raises(TransitionError, match="нет Telegram"):
            await lc.ask_citizen(ctx, item, w.recipient, "Вопрос")
        await lc.answer(ctx, item, w.recipient, "Ответ")
    mail = await w.outbox(email="petrov@example.test")
    assert mail and mail[-1].payload["subject"] == f"Ответ на обращение № {by_mail.number}"
    assert any("отправьте его почтой" in t for t in await w.texts(9001))
    events = [e.action for e in await lc.history(w.session, by_post.id)]
    assert "deliver_by_post" in events


async def test_find_by_number_short_and_full(w: World) -> None:
    item = await registered(w)
    found = await lc.find_by_number(w.session, item.number, w.now, w.settings.tz)
    assert found is not None and found.id == item.id
    short = str(int(item.number.split("-")[1]))
    found = await lc.find_by_number(w.session, short, w.now, w.settings.tz)
    assert found is not None and found.id == item.id
    assert await lc.find_by_number(w.session, "2019-000001", w.now, w.settings.tz) is None


async def test_staff_card_shows_only_the_viewers_buttons(w: World) -> None:
    from core.cards import staff_card

    item = await registered(w)
    ctx = await w.ctx()
    _, markup = await staff_card(ctx, item, w.curator)
    assert markup is not None and markup["inline_keyboard"][0][0]["callback_data"] == f"it:route:{item.id}"
    await lc.assign(ctx, item, w.zhkh.id, SYSTEM)
    text, markup = await staff_card(ctx, item, w.recipient)
    assert f"№ {item.number}" in text and "Отдел ЖКХ" in text
    assert markup is not None and markup["inline_keyboard"][0][0]["callback_data"] == f"it:accept:{item.id}"
    _, markup = await staff_card(ctx, item, w.teacher)
    assert markup is None
    _, markup = await staff_card(ctx, item, w.curator)
    assert markup is None  # routed: nothing for the centre to press until the answer comes

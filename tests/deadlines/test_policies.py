"""Policy lookup (pure) and the seeded defaults (real database)."""
from __future__ import annotations

from sqlalchemy import func, select

from core.calendar import parse_duration
from core.deadlines import ACCELERATED_ANSWER, PolicyBook, load_policies
from core.seed import DEFAULT_POLICIES, seed_reference
from db.models import DeadlinePolicy


def _row(id: int, **kw: object) -> DeadlinePolicy:
    return DeadlinePolicy(id=id, **kw)


def d(text: str):
    return parse_duration(text)


def test_more_keys_win_and_fields_fall_back():
    book = PolicyBook.from_rows([
        _row(1, registration="3d", answer="30d", review="2wd"),
        _row(2, channel="bot", kind="message", answer="10wd"),
        _row(3, topic_id=7, answer="5d"),
    ])
    bot = book.for_item(channel="bot", kind="message")
    assert (bot.registration, bot.answer, bot.review, bot.first_reaction) == (d("3d"), d("10wd"), d("2wd"), None)
    assert bot.sources == {"registration": 1, "answer": 2, "review": 1}
    # Two keys (bot + message) beat one (topic).
    assert book.for_item(channel="bot", kind="message", topic_id=7).answer == d("10wd")
    email = book.for_item(channel="email", kind="message", topic_id=7)
    assert (email.answer, email.registration, email.sources["answer"]) == (d("5d"), d("3d"), 3)


def test_theme_beats_topic_and_ties_go_to_the_lowest_id():
    book = PolicyBook.from_rows([
        _row(5, topic_id=7, answer="5d"),
        _row(6, theme_id=70, answer="2d"),
        _row(8, channel="pos", first_reaction="1d"),
        _row(9, kind="appeal", first_reaction="7d"),
    ])
    assert book.for_item(channel="pos", kind="message", topic_id=7, theme_id=70).answer == d("2d")
    assert book.for_item(channel="pos", kind="message", topic_id=7, theme_id=71).answer == d("5d")
    assert book.for_item(channel="pos", kind="appeal").first_reaction == d("1d")


def test_priority_is_a_key_and_a_bad_duration_is_ignored():
    book = PolicyBook.from_rows([
        _row(1, answer="30d"),
        _row(2, channel="im", answer="8wh"),
        _row(3, channel="im", priority=1, answer="4wh", review="soon"),
    ])
    assert book.for_item(channel="im", kind="message", priority=1).answer == d("4wh")
    assert book.for_item(channel="im", kind="message", priority=0).answer == d("8wh")
    assert book.for_item(channel="im", kind="message", priority=1).review is None


def test_accelerated_topic_caps_the_answer_unless_a_topic_row_sets_it():
    rows = [_row(1, answer="30d"), _row(2, topic_id=8, answer="20d")]
    book = PolicyBook.from_rows(rows, accelerated_topics=[7, 8])
    assert book.for_item(channel="bot", kind="message", topic_id=7).answer_cap == ACCELERATED_ANSWER
    assert book.for_item(channel="bot", kind="message", topic_id=8).answer_cap is None
    assert book.for_item(channel="bot", kind="message", topic_id=9).answer_cap is None


async def test_defaults_are_seeded_once_and_staff_edits_are_kept(sessionmaker):
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(DeadlinePolicy.id))) == len(DEFAULT_POLICIES)
        book = await load_policies(session)
    appeal = book.for_item(channel="email", kind="appeal")
    assert (appeal.registration, appeal.first_reaction, appeal.answer, appeal.extension) == (
        d("3d"), d("7d"), d("30d"), d("30d"))
    assert book.for_item(channel="pos", kind="message").answer == d("10wd")
    assert book.for_item(channel="pos", kind="appeal").answer == d("30d")  # the law wins the tie
    async with sessionmaker() as session, session.begin():
        general = await session.scalar(select(DeadlinePolicy).order_by(DeadlinePolicy.id).limit(1))
        general.answer = "25d"
        await session.delete(await session.scalar(select(DeadlinePolicy).where(DeadlinePolicy.channel == "pos")))
        await session.flush()
        await seed_reference(session)
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count(DeadlinePolicy.id))) == len(DEFAULT_POLICIES) - 1
        assert (await load_policies(session)).for_item(channel="pos", kind="message").answer == d("25d")

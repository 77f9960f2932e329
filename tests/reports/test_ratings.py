"""Ratings of recipients: the formula (core/ratings.py, docs/reports.md), the minimum, the channels."""
from __future__ import annotations

import pytest

from core.ratings import WEIGHTS, AnswerStats, RatingInputs, combined_score, rate
from core.report_model import Scope
from core.reports import SurveyGroup, build_report
from tests.reports.hand import NOVEMBER, NOW, Hand, build, msk


@pytest.fixture
async def hand(sessionmaker) -> Hand:
    return await build(sessionmaker)


async def ratings(sessionmaker, **kwargs):
    async with sessionmaker() as session:
        return (await build_report(session, NOVEMBER, Scope(), now=NOW, **kwargs)).ratings


async def test_november_ratings_by_hand(sessionmaker, hand: Hand) -> None:
    a, b = (await ratings(sessionmaker))["all"]
    # A «Отдел ЖКХ»: November's items c10 c1 c2 c3 c4 c7 c8 c9 x2 (9) + p5 answered in November = 10.
    # Answers: c10 c1 c2 c3 c4 c7 p5 = 7, c2 late → 6/7; hours 6 20 36 48 120 288 672 → median 48.
    # Surveys c1 yes 5, c2 no 2, c7 yes 4 → 2/3, average 11/3. No returns; p5 reopened → 1/7.
    assert (a.organisation_id, a.items, a.answered, a.returns, a.overdue) == (hand.org_a, 10, 7, 0, 0)
    assert a.on_time_share == pytest.approx(6 / 7) and a.median_answer_hours == pytest.approx(48)
    assert (a.satisfied_share, a.average_score, a.reopened_share) == (pytest.approx(2 / 3), pytest.approx(11 / 3),
                                                                      pytest.approx(1 / 7))
    # Score: timeliness 6/7 (nothing of A's overdue); speed: shares of the allotted time c10 0.05,
    # c1 0.2, c4 0.25, c7 0.5, p5 672/864 0.78, c3 20/24 0.83, c2 1.2 → 1 → median 0.5, part 0.5;
    # satisfaction (2/3 + (11/3 − 1)/4) / 2 = 2/3; rework 1; reopening 6/7.
    # 100 × (0.35·6/7 + 0.15·0.5 + 0.25·2/3 + 0.15·1 + 0.10·6/7) = 77.74 → 77.7.
    assert (a.score, a.rank) == (77.7, 1)
    # B «Отдел образования»: c5 c6 c11 + p4 p7 answered in November = 5 items; answers c5 p4 p7 = 3,
    # p7 late → 2/3; c6 due 25.11 still unanswered → timeliness 2/(3 + 1) = 0.5; hours 192 528 696 →
    # median 528; speed: c5 192/720 0.27, p4 528/720 0.73, p7 → 1 → median 0.73, part 0.27;
    # surveys p4 no 1, c5 partly 3 → 0, average 2 → (0 + 0.25)/2 = 0.125; c5 returned once → rework
    # 1 − 1/3; nothing reopened → 1.
    # 100 × (0.35·0.5 + 0.15·0.2667 + 0.25·0.125 + 0.15·0.6667 + 0.10·1) = 44.625 → 44.6.
    assert (b.organisation_id, b.items, b.answered, b.returns, b.overdue) == (hand.org_b, 5, 3, 1, 1)
    assert (b.on_time_share, b.median_answer_hours, b.satisfied_share, b.average_score, b.reopened_share) == (
        pytest.approx(2 / 3), pytest.approx(528), 0.0, 2.0, 0.0)
    assert b.score == pytest.approx(44.6, abs=0.051) and b.rank == 2


async def test_below_the_minimum_nobody_is_ranked(sessionmaker, hand: Hand) -> None:
    a, b = (await ratings(sessionmaker, min_rated=6))["all"]
    assert (a.rank, b.organisation_id, b.items, b.score, b.rank) == (1, hand.org_b, 5, None, None)
    assert b.answered == 3  # the figures are still there


async def test_per_channel(sessionmaker, hand: Hand) -> None:
    result = await ratings(sessionmaker, min_rated=1)
    # ПОС: A has c2 and p5 (answered in November); B has c6, unanswered and overdue.
    pos = {r.organisation_id: (r.items, r.answered, r.overdue) for r in result["pos"]}
    assert pos == {hand.org_a: (2, 2, 0), hand.org_b: (1, 0, 1)}
    # ИМ: A c3 c4; B c11 (withdrawn, nothing to measure: no score).
    im = {r.organisation_id: (r.items, r.answered, r.score is None) for r in result["im"]}
    assert im == {hand.org_a: (2, 2, False), hand.org_b: (1, 0, True)}
    assert [r.rank for r in result["im"]] == [1, None]


def answers(*given: tuple[int, str, float, float, bool]) -> dict[tuple[int, str], AnswerStats]:
    """(organisation, channel, hours, allotted hours, on time) → what the report collects."""
    result: dict[tuple[int, str], AnswerStats] = {}
    for org, channel, hours, allotted, on_time in given:
        result.setdefault((org, channel), AnswerStats()).add(hours, allotted, on_time, earlier=False)
    return result


def test_one_quick_answer_does_not_top_the_list() -> None:
    inputs = RatingInputs(
        received={(1, "bot"): 1, (2, "bot"): 8},
        answers=answers((1, "bot", 1, 240, True), *((2, "bot", 200, 240, n < 6) for n in range(8))),
        surveys=[], returns={}, reopened={}, missed={})
    first, second = rate(inputs, {1: "Быстрые", 2: "Работящие"}, min_rated=5)["all"]
    assert (first.name, first.rank, second.name, second.rank, second.score) == ("Работящие", 1, "Быстрые", None, None)


def test_the_formula_leaves_out_what_cannot_be_measured() -> None:
    # Only timeliness and satisfaction measured: weights 0.35 and 0.25 scaled to the whole.
    assert combined_score({"timeliness": 1.0, "speed": None, "satisfaction": 0.4, "rework": None,
                           "reopening": None}) == round(100 * (0.35 + 0.25 * 0.4) / 0.6, 1)
    assert combined_score(dict.fromkeys(WEIGHTS)) is None
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_equal_scores_share_a_rank() -> None:
    inputs = RatingInputs(
        received={(1, "pos"): 5, (2, "pos"): 5, (3, "pos"): 6},
        answers=answers(*((o, "pos", 24, 240, True) for o in (1, 2) for _ in range(5)),
                        *((3, "pos", 240, 240, False) for _ in range(6))),
        surveys=[SurveyGroup(msk(11, 2).date(), 3, "pos", "no", 2, 2, 2)], returns={}, reopened={}, missed={})
    result = rate(inputs, {1: "Б", 2: "А", 3: "В"})
    assert [(r.name, r.rank) for r in result["pos"]] == [("А", 1), ("Б", 1), ("В", 3)]
    assert result["pos"] == [r for r in result["all"]] and result["im"] == []

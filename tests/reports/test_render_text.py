"""The summary in words: figures against the previous period, escaped names, the 4096 limit, and a
clear sentence for an empty period."""
from __future__ import annotations

from dataclasses import replace

from core.i18n import gettext_for
from core.report_model import Count, Problem, Scope
from core.report_text import TEXT_LIMIT, hours_text, summary_html, summary_lines
from sandbox.htmltext import parse_html
from tests.reports.samples import TRICKY, empty_report, sample_report

RU = gettext_for("ru")


def test_the_summary_tells_the_key_figures_against_the_previous_period() -> None:
    text = summary_html(sample_report(scope=Scope(topic_id=4, label="ЖКХ")), RU)
    lines = text.split("\n")
    assert lines[0] == "📊 <b>Отчёт МЦУ за 01.11.2026 — 30.11.2026</b>"
    assert lines[1] == "Охват: ЖКХ"
    assert lines[2] == "Сравнение с 02.10.2026 — 31.10.2026; данные на 01.12.2026 09:00"
    assert "<b>Поступило: 120</b> (↑ +16, было 104)" in lines
    assert "По тематикам: ЖКХ 60 (↑+12), Дороги 36 (↓−6), Образование 24 (↑+21)" in lines
    assert "По поселениям: Новодугино 84 (↑+24), Высокое 36 (↑+16)" in lines
    assert "Дано ответов: 95, из них в срок: 80\xa0% (↑ +10 п. п.)" in lines
    assert "Первая реакция: медиана 3,5 ч (↓ −42 мин), 90 % — 20 ч (↓ −4 ч)" in lines
    assert "Время ответа: медиана 6,2 дн. (↓ −30 ч), 90 % — 25 дн. (↓ −5 дн.)" in lines
    assert "Довольны: 72\xa0% (↓ −3 п. п.); средняя оценка: 4,1 (↑ +0,2)" in lines
    assert "<b>Просрочено сейчас: 7</b>" in lines
    # The worst overdue are named with number and organisation, worst first.
    worst = lines.index("<b>Просрочено сейчас: 7</b>")
    assert lines[worst + 1].startswith("• № 2026-000100 — МУП &lt;b&gt;«Водоканал»&lt;/b&gt; &amp; Co, 10 раб. дн.")
    assert lines[worst + 2].startswith("• № 2026-000101 — Отдел ЖКХ и благоустройства, 9 раб. дн.")
    assert "• Нет холодной воды — Высокое: 4 (новая)" in lines
    assert len(text) <= TEXT_LIMIT
    plain, _entities = parse_html(text)  # what Telegram would parse: valid, and the name shown as written
    assert TRICKY in plain


def test_the_whole_centre_and_a_single_day_read_naturally() -> None:
    report = sample_report()
    day = replace(report.period, end=report.period.start)
    text = summary_html(replace(report, period=day), RU)
    assert text.startswith("📊 <b>Отчёт МЦУ за 01.11.2026</b>\nОхват: весь МЦУ\nСравнение с 31.10.2026;")


def test_names_are_escaped_everywhere() -> None:
    report = sample_report(scope=Scope(organisation_id=3, label=TRICKY))
    current = replace(report.current, by_topic=[Count("x", "<i>Дороги</i>", 5, 1)],
                      by_settlement=[Count("1", "Сёла & <деревни>", 5, 0)])
    report = replace(report, current=current,
                     problems=[Problem("Яма <script>", "Высокое", "ул. <Мира>", 3, 1, ["2026-000001"])])
    text = summary_html(report, RU)
    parse_html(text)  # raises on a tag Telegram does not know
    assert "<i>Дороги</i>" not in text and "&lt;i&gt;Дороги&lt;/i&gt;" in text
    assert "Охват: МУП &lt;b&gt;«Водоканал»&lt;/b&gt; &amp; Co" in text
    assert "Яма &lt;script&gt; — Высокое, ул. &lt;Мира&gt;: 3 (↑+2)" in text


def test_a_huge_report_stays_within_one_message() -> None:
    report = sample_report()
    long = "Очень длинное название организации или поселения " * 4
    counts = [Count(str(n), f"{long} {n}", 100 - n, n) for n in range(60)]
    current = replace(report.current, by_topic=counts, by_channel=counts, by_settlement=counts)
    problems = [Problem(long, long, long, 50 - n, n, []) for n in range(40)]
    text = summary_html(replace(report, current=current, problems=problems, scope=Scope(channel="pos", label=long)),
                        RU)
    assert len(text) <= TEXT_LIMIT
    parse_html(text)
    assert "прочие" in text  # the tail of a long list is summed, not listed


def test_an_empty_period_says_so_instead_of_a_table_of_zeros() -> None:
    lines = summary_lines(empty_report(previous_received=5), RU)
    assert lines == [
        "📊 Отчёт МЦУ за 01.11.2026 — 30.11.2026",
        "Охват: весь МЦУ",
        "Сравнение с 02.10.2026 — 31.10.2026; данные на 01.12.2026 09:00",
        "",
        "За период обращений не было.",
        "В предыдущем периоде: 5.",
    ]
    text = summary_html(empty_report(overdue=2), RU)
    assert "За период обращений не было." in text and "Поступило" not in text and "0 %" not in text
    assert "<b>Просрочено сейчас: 2</b>" in text  # what is late still matters


def test_plain_lines_carry_the_same_content_without_markup() -> None:
    report = sample_report()
    html_lines = summary_html(report, RU).split("\n")
    lines = summary_lines(report, RU)
    assert len(lines) == len(html_lines)
    assert "Поступило: 120 (↑ +16, было 104)" in lines
    assert any(line.startswith("• № 2026-000100 — " + TRICKY) for line in lines)
    assert not any("<b>" in line and "Водоканал" not in line for line in lines)


def test_durations_and_english() -> None:
    assert [hours_text(h, RU) for h in (None, 0.25, 5.24, 47.9, 72)] == ["—", "15 мин", "5,2 ч", "47,9 ч", "3 дн."]
    text = summary_html(sample_report(), gettext_for("en"))
    assert "4.1" in text and "4,1" not in text  # numbers the reader's way: no Russian comma in English

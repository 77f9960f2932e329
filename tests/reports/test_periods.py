"""Periods from buttons and typed dates; the errors people see."""
from __future__ import annotations

from datetime import date

import pytest

from core.i18n import gettext_for
from core.report_model import Period
from core.reports import ReportInputError, parse_dates, period_for
from tests.reports.hand import MSK

TODAY = date(2026, 12, 10)  # a Thursday


def p(start: date, end: date) -> Period:
    return Period(start, end, MSK)


@pytest.mark.parametrize(("kind", "period"), [
    ("today", p(TODAY, TODAY)),
    ("week", p(date(2026, 12, 4), TODAY)),  # the last seven days, today included
    ("month", p(date(2026, 12, 1), TODAY)),
    ("quarter", p(date(2026, 10, 1), TODAY)),
    ("last_month", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("year", p(date(2026, 1, 1), TODAY)),
])
def test_period_for(kind: str, period: Period) -> None:
    assert period_for(kind, TODAY, MSK) == period


def test_previous_period_is_as_long_just_before() -> None:
    assert period_for("week", TODAY, MSK).previous() == p(date(2026, 11, 27), date(2026, 12, 3))
    assert period_for("last_month", date(2026, 3, 15), MSK) == p(date(2026, 2, 1), date(2026, 2, 28))


def test_unknown_kind() -> None:
    with pytest.raises(ReportInputError, match="Неизвестный период: decade"):
        period_for("decade", TODAY, MSK)


@pytest.mark.parametrize(("text", "period"), [
    ("01.11.2026-30.11.2026", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("1.11-30.11", p(date(2026, 11, 1), date(2026, 11, 30))),
    (" 1.11 — 30.11 ", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("с 1.11.26 по 15.11.26", p(date(2026, 11, 1), date(2026, 11, 15))),
    ("2026-11-01..2026-11-30", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("2026-11-01-2026-11-30", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("05.11.2026", p(date(2026, 11, 5), date(2026, 11, 5))),
    ("15.12-15.01", p(date(2025, 12, 15), date(2026, 1, 15))),  # December is still ahead: last year's
    ("20.12", p(date(2025, 12, 20), date(2025, 12, 20))),
    ("1.12-31.12.2026", p(date(2026, 12, 1), TODAY)),  # the end past today is cut to today
    ("ноябрь 2026", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("за ноябрь", p(date(2026, 11, 1), date(2026, 11, 30))),
    ("Февраль 2024 г.", p(date(2024, 2, 1), date(2024, 2, 29))),
    ("май", p(date(2026, 5, 1), date(2026, 5, 31))),
    ("декабрь", p(date(2026, 12, 1), TODAY)),
])
def test_parse_dates(text: str, period: Period) -> None:
    assert parse_dates(text, MSK, today=TODAY) == period


@pytest.mark.parametrize(("text", "russian"), [
    ("30.11.2026-01.11.2026", "Конец периода (01.11.2026) раньше начала (30.11.2026)."),
    ("01.01.2027-05.01.2027", "Период начинается в будущем (01.01.2027)"),
    ("01.01.2020-30.11.2026", "Период слишком длинный (2526 дн.): не больше трёх лет."),
    ("31.02.2026", "Такой даты нет: 31.02.2026."),
    ("вчера и позавчера", "Не понимаю период «вчера и позавчера»."),
    ("", "Не понимаю период «»."),
    ("1.11.123-2.11.123", "Такой даты нет: 1.11.123."),
])
def test_parse_dates_errors(text: str, russian: str) -> None:
    with pytest.raises(ReportInputError) as error:
        parse_dates(text, MSK, today=TODAY)
    assert str(error.value).startswith(russian)
    # Shown in the reader's language (the catalogs are filled at the end; never a crash meanwhile).
    assert error.value.localized(gettext_for("en"))

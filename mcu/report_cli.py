"""`mcu report`: the centre's report from the command line — the same figures, words and spreadsheet
as `/report` in the bot (core.report_output).

    mcu report --from 2026-11-01 --to 2026-11-30                 the summary on stdout
    mcu report --from 01.11.2026 --to 30.11.2026 --format xlsx --output ноябрь.xlsx
    mcu report --from 2026-11-01 --topic housing --settlement Высокое --channel pos

The operator at the server sees any scope. Bad input: one line, exit code 2 (`mcu.cli`). The
stages go to stderr, so stdout is only the report.
"""
from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the heavy imports wait until the input is parsed
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.report_model import Period, Scope
    from core.settings import Settings

CHANNELS = ("bot", "pos", "im", "phone", "email", "visit", "cur")  # db.models.Channel
STAGES = {"figures": "считаю показатели…", "charts": "рисую графики…", "table": "готовлю таблицу…"}


class ReportCliError(ValueError):
    """Bad command-line input, in one line."""


def add_parser(sub: Any) -> None:
    report = sub.add_parser(
        "report", help="отчёт МЦУ за период: сводка в терминал или таблица .xlsx",
        description="Те же показатели, что /report в боте: поступившие обращения по тематикам, каналам и "
                    "поселениям, ответы в срок, просроченные, время реакции и ответа, удовлетворённость, "
                    "повторные и перенаправленные — в сравнении с предыдущим периодом той же длины. "
                    "Даты — 2026-11-01 или 01.11.2026, в часовом поясе района; конец позже сегодня "
                    "обрезается до сегодня.")
    report.add_argument("--from", dest="start", required=True, metavar="ДАТА", help="первый день периода")
    report.add_argument("--to", dest="end", metavar="ДАТА", help="последний день (по умолчанию сегодня)")
    report.add_argument("--format", choices=("text", "xlsx"), default="text",
                        help="text — сводка (по умолчанию), xlsx — таблица: сводка, обращения, рейтинг, просроченные")
    report.add_argument("--output", metavar="ФАЙЛ",
                        help="куда записать; для xlsx по умолчанию ./МЦУ_отчёт_НАЧАЛО_КОНЕЦ.xlsx")
    report.add_argument("--topic", metavar="CODE", help="только эта тематика: код (housing) или название (ЖКХ)")
    report.add_argument("--settlement", metavar="NAME", help="только этот населённый пункт")
    report.add_argument("--organisation", type=int, metavar="ID", help="только эта организация (mcu org list)")
    report.add_argument("--channel", choices=CHANNELS, help="только этот канал")


def _day(text: str, settings: Settings, today: Any) -> Any:
    from core.reports import ReportInputError, parse_dates

    try:
        period = parse_dates(text, settings.tz, today=today)
    except ReportInputError as exc:
        raise ReportCliError(f"{text!r}: {exc}") from None
    if period.start != period.end:
        raise ReportCliError(f"{text!r}: ожидается одна дата, например 2026-11-01 или 01.11.2026")
    return period.start


def period_of(args: argparse.Namespace, settings: Settings, now: datetime) -> Period:
    from core.reports import ReportInputError, period_between

    today = now.astimezone(settings.tz).date()
    start = _day(args.start, settings, today)
    end = _day(args.end, settings, today) if args.end else today
    try:
        return period_between(start, end, settings.tz, today=today)
    except ReportInputError as exc:
        raise ReportCliError(str(exc)) from None


async def scope_of(session: AsyncSession, args: argparse.Namespace) -> Scope:
    from core.report_model import Scope
    from core.routing import RoutingError, find_settlement, find_topic, get_organisation

    try:
        topic = await find_topic(session, args.topic) if args.topic else None
        settlement = await find_settlement(session, args.settlement) if args.settlement else None
        organisation = await get_organisation(session, args.organisation) if args.organisation is not None else None
    except RoutingError as exc:
        raise ReportCliError(str(exc)) from None
    return Scope(topic_id=topic.id if topic else None, settlement_id=settlement.id if settlement else None,
                 organisation_id=organisation.id if organisation else None, channel=args.channel)


async def run_report(settings: Settings, args: argparse.Namespace, *, now: datetime | None = None) -> None:
    from core import report_output
    from core.i18n import gettext_for
    from core.reports import dispose_report_engines, report_sessionmaker
    from mcu.database import open_database

    moment = now or datetime.now(UTC)
    period = period_of(args, settings, moment)
    output_path = Path(args.output) if args.output else None
    xlsx = args.format == "xlsx"

    async def progress(stage: str) -> None:
        print(f"mcu report: {STAGES[stage]}", file=sys.stderr, flush=True)

    async with open_database(settings) as db:
        async with db.sessionmaker() as session:
            scope = await scope_of(session, args)
        try:
            output = await report_output.produce(report_sessionmaker(db.sessionmaker), period, scope, now=moment,
                                                 _=gettext_for("ru"), charts=False, xlsx=xlsx, progress=progress)
        finally:
            await dispose_report_engines()
    if not xlsx:
        text = "\n".join(output.lines) + "\n"
        if output_path is None:
            sys.stdout.write(text)
        else:
            output_path.write_text(text, encoding="utf-8")
            print(f"Отчёт записан: {output_path}")
        return
    assert output.xlsx is not None
    target = output_path or Path(output.xlsx_name)
    target.write_bytes(output.xlsx)
    print(f"Таблица записана: {target.resolve()}")

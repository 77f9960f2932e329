"""`mcu`: run the parts, migrate the database, manage staff, start the sandbox.

Every command has --help and exits non-zero with a one-line reason on bad input.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from core.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from core.outbox import OutboxCounts

PARTS = {
    "run": frozenset({"bot", "admin", "scheduler"}),
    "bot": frozenset({"bot"}),
    "admin": frozenset({"admin"}),
    "scheduler": frozenset({"scheduler"}),
}


class CliError(Exception):
    """A user mistake, reported in one line."""


class CommandFailed(Exception):
    """The input was fine but the outside world said no (e.g. the mail server); one line, exit 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcu", description="МЦУ — муниципальный центр управления: бот, админка, планировщик."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("run", help="всё в одном процессе: бот, админка, планировщик")
    sub.add_parser("bot", help="только бот (long polling или webhook)")
    sub.add_parser("admin", help="только веб-админка")
    sub.add_parser("scheduler", help="только планировщик (напоминания, рассылки)")

    db = sub.add_parser("db", help="база данных")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_sub.add_parser("upgrade", help="применить миграции и справочники")

    staff = sub.add_parser("staff", help="сотрудники")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = staff_sub.add_parser("add", help="добавить сотрудника или роли сотруднику")
    add.add_argument("--telegram-id", type=int, required=True, help="числовой id пользователя Telegram")
    add.add_argument("--role", action="append", required=True,
                     help="роль (можно несколько раз или через запятую): recipient, head, curator, analyst, "
                          "pos_officer, im_officer, gospublic_officer, admin")
    add.add_argument("--name", help="ФИО")
    add.add_argument("--email", help="e-mail")
    add.add_argument("--login", help="логин для входа в админку (по умолчанию id<Telegram id>)")
    add.add_argument("--password", action="store_true",
                     help="задать пароль для админки: спросит его (или прочтёт одну строку из stdin)")
    password = staff_sub.add_parser(
        "password", help="задать сотруднику новый пароль для админки",
        description="Спрашивает пароль дважды (или читает одну строку из stdin). Все открытые сеансы "
                    "сотрудника в админке завершаются, блокировка входа снимается.",
    )
    password.add_argument("--login", required=True, help="логин сотрудника")
    invite = staff_sub.add_parser(
        "invite", help="прислать сотруднику в Telegram одноразовую ссылку для входа в админку",
        description="Ставит в очередь бота сообщение со ссылкой (MCU_ADMIN_URL/invite/…): по ней сотрудник "
                    "задаёт пароль и входит. Ссылка действует 48 часов и только один раз.",
    )
    invite.add_argument("--telegram-id", type=int, required=True, help="числовой id пользователя Telegram")

    sub.add_parser("status", help="состояние: очереди исходящих сообщений Telegram и писем")

    mail = sub.add_parser("mail", help="почта (MCU_SMTP_URL)")
    mail_sub = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    mail_test = mail_sub.add_parser(
        "test", help="отправить проверочное письмо сразу, минуя очередь",
        description="Отправляет проверочное письмо через MCU_SMTP_URL от имени MCU_SMTP_FROM и пишет "
                    "одной строкой, принял ли его почтовый сервер.",
    )
    mail_test.add_argument("--to", required=True, metavar="ADDR", help="адрес получателя")

    cal = sub.add_parser(
        "calendar", help="производственный календарь и сроки в рабочих днях и часах",
        description="ГОД — выходные и праздничные дни по месяцам и число рабочих дней; "
                    "ДАТА +СРОК — когда истекает срок (в часовом поясе района). "
                    "Поправки календаря из базы данных учитываются.",
    )
    cal.add_argument("when", metavar="ГОД|ДАТА",
                     help="год (2026) или дата: 2026-04-30, \"2026-04-30 17:00\", 2026-04-30T14:00Z")
    cal.add_argument("duration", nargs="?", metavar="+СРОК",
                     help="+30d — календарные дни, +10wd — рабочие дни, +8wh — рабочие часы")
    cal.add_argument("--move-to-working-day", action="store_true",
                     help="срок в календарных днях, выпавший на выходной, переносится на следующий рабочий день")
    cal.add_argument("--office-hours", metavar="ЧЧ:ММ-ЧЧ:ММ", help="часы работы (по умолчанию 09:00-18:00)")

    imp = sub.add_parser(
        "import", help="импорт выгрузки ПОС или «Инцидент менеджмент» (.xlsx, .csv)",
        description="Регистрирует обращения из выгрузки. Файл проверяется целиком: при любой ошибке не "
                    "импортируется ничего, а отчёт перечисляет все плохие строки (код выхода 1). Номера, "
                    "уже импортированные раньше, пропускаются — повторный импорт ничего не меняет.",
    )
    imp.add_argument("--channel", required=True, choices=("pos", "im"),
                     help="pos — ПОС (Госуслуги), im — «Инцидент менеджмент»")
    imp.add_argument("file", metavar="ФАЙЛ", help="выгрузка .xlsx или .csv (UTF-8 или Windows-1251)")
    imp.add_argument("--dry-run", action="store_true", help="только проверить файл, ничего не записывать")

    from mcu.directory_cli import add_parsers as add_directory_parsers

    add_directory_parsers(sub)

    from mcu.report_cli import add_parser as add_report_parser

    add_report_parser(sub)

    sb = sub.add_parser("sandbox", help="только песочница Telegram Bot API (локально, без интернета)")
    sb.add_argument("--host", help="адрес (по умолчанию MCU_SANDBOX_HOST)")
    sb.add_argument("--port", type=int, help="порт (по умолчанию MCU_SANDBOX_PORT)")
    return parser


async def _db_upgrade(settings: Settings) -> None:
    from mcu.database import open_database

    async with open_database(settings):
        pass
    print(f"База данных обновлена: {_safe_url(settings.effective_database_url)}")


async def _staff_add(settings: Settings, args: argparse.Namespace) -> None:
    from core.staff import add_staff, parse_roles
    from core.staff_auth import AuthError, ensure_login, set_login, set_password

    try:
        roles = parse_roles(args.role)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if args.telegram_id <= 0:
        raise CliError("--telegram-id must be a positive Telegram user id")
    password = _read_password() if args.password else None  # asked before the (slow) start of the rest

    from mcu.database import open_database

    async with open_database(settings) as db, db.sessionmaker() as session, session.begin():
        staff, created = await add_staff(
            session, telegram_id=args.telegram_id, roles=roles, name=args.name, email=args.email
        )
        try:
            if args.login:
                await set_login(session, staff, args.login)
            login = await ensure_login(session, staff)
            if password is not None:
                await set_password(session, staff, password, now=datetime.now(UTC), by_staff_id=None)
        except AuthError as exc:
            raise CliError(str(exc)) from None
        verb = "добавлен" if created else "обновлён"
        print(f"Сотрудник {verb}: {staff.name} (telegram id {staff.telegram_id}), роли: "
              f"{', '.join(sorted(staff.role_set))}")
        if password is not None:
            print(f"Вход в админку: {settings.admin_base_url}/login, логин: {login}")
        else:
            print(f"Логин для админки: {login}. Пароль: mcu staff password --login {login} "
                  f"или ссылка в Telegram: mcu staff invite --telegram-id {staff.telegram_id}")


def _read_password() -> str:
    """From the terminal (asked twice, not echoed), or one line of stdin when a script pipes it in."""
    import getpass

    from core.staff_auth import AuthError, check_password_policy

    if sys.stdin.isatty():
        password = getpass.getpass("Пароль: ")
        if getpass.getpass("Ещё раз: ") != password:
            raise CliError("пароли не совпадают")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        check_password_policy(password)
    except AuthError as exc:
        raise CliError(str(exc)) from None
    return password


async def _staff_password(settings: Settings, args: argparse.Namespace) -> None:
    from core.staff_auth import find_by_login, set_password

    password = _read_password()

    from mcu.database import open_database

    async with open_database(settings) as db, db.sessionmaker() as session, session.begin():
        staff = await find_by_login(session, args.login)
        if staff is None:
            raise CliError(f"нет сотрудника с логином {args.login!r}")
        await set_password(session, staff, password, now=datetime.now(UTC), by_staff_id=None)
        print(f"Пароль задан: {staff.name} (логин {staff.login}); прежние сеансы в админке завершены.")


async def _staff_invite(settings: Settings, args: argparse.Namespace) -> None:
    from sqlalchemy import select

    from core.staff import StaffError, send_invite
    from db.models import Staff
    from mcu.database import open_database

    async with open_database(settings) as db, db.sessionmaker() as session, session.begin():
        staff = await session.scalar(select(Staff).where(Staff.telegram_id == args.telegram_id))
        if staff is None or not staff.is_active:
            raise CliError(f"нет действующего сотрудника с telegram id {args.telegram_id}")
        try:
            link = await send_invite(session, staff, None, now=datetime.now(UTC), base_url=settings.admin_base_url)
        except StaffError as exc:
            raise CliError(str(exc)) from None
    print(f"Бот пришлёт {staff.name} ссылку для входа (логин {staff.login}), она действует 48 часов:\n{link}")


async def _status(settings: Settings) -> None:
    from core.mail import parse_smtp_url
    from core.outbox import outbox_counts
    from mcu.database import open_database

    async with open_database(settings) as db, db.sessionmaker() as session:
        telegram = await outbox_counts(session, "telegram")
        email = await outbox_counts(session, "email")
    print("Исходящие сообщения Telegram (outbox):")
    _print_counts(settings, telegram)
    if settings.smtp_url:
        print(f"Письма (outbox), почта через {parse_smtp_url(settings.smtp_url).describe()}:")
    else:
        print("Письма (outbox), почта выключена (MCU_SMTP_URL не задан):")
    _print_counts(settings, email)
    if not settings.smtp_url and email.pending:
        print(f"Внимание: {email.pending} писем ждут отправки, а почта выключена. "
              "Задайте MCU_SMTP_URL и перезапустите mcu — письма уйдут.")


def _print_counts(settings: Settings, counts: OutboxCounts) -> None:
    print(f"  в очереди:    {counts.pending}")
    print(f"  отправляются: {counts.sending}")
    print(f"  отправлено:   {counts.sent}")
    print(f"  не доставлено: {counts.failed}")
    if counts.oldest_pending_at is not None:
        local = counts.oldest_pending_at.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M")
        print(f"  самое старое в очереди: {local}")


async def _mail_test(settings: Settings, to: str) -> None:
    from datetime import UTC, datetime

    import aiosmtplib

    from core import mail

    if not settings.smtp_url:
        raise CliError("MCU_SMTP_URL не задан — почта выключена (пример: MCU_SMTP_URL=smtp://127.0.0.1:1025)")
    if not mail.is_email_address(to):
        raise CliError(f"--to: {to!r} — не адрес e-mail")
    target = mail.parse_smtp_url(settings.smtp_url)
    now = datetime.now(UTC)
    letter = mail.build_message(
        settings.smtp_from, to, "МЦУ: проверка почты",
        "Это проверочное письмо системы МЦУ. Раз оно дошло, почта настроена верно: карточки "
        "обращений и ответы заявителям будут приходить так же.\n\n"
        f"Отправлено {now.astimezone(settings.tz):%d.%m.%Y %H:%M} командой mcu mail test.\n"
        f"Админка: {settings.admin_base_url}/\n",
        now=now,
    )
    try:
        smtp = await mail.connect(target)
        try:
            _errors, reply = await smtp.send_message(letter, sender=mail.bare_address(settings.smtp_from),
                                                     recipients=[to.strip()])
        finally:
            await mail.close_quietly(smtp)
    except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
        raise CommandFailed(f"письмо не отправлено ({target.describe()}): {mail.describe_error(exc)}") from None
    print(f"Письмо отправлено на {to.strip()} через {target.describe()}; сервер ответил: {' '.join(reply.split())}")


async def _sandbox(settings: Settings, args: argparse.Namespace) -> None:
    from mcu.runtime import Stopper
    from sandbox import start_sandbox

    server = await start_sandbox(host=args.host or settings.sandbox_host, port=args.port or settings.sandbox_port)
    print(f"Песочница Telegram Bot API: {server.url}", flush=True)
    stopper = Stopper()
    stopper.install()
    try:
        await stopper.event.wait()
    finally:
        await server.stop()


async def _calendar(settings: Settings, args: argparse.Namespace) -> None:
    from mcu.calendar_cli import CalendarInputError, run_calendar

    try:
        await run_calendar(settings, args.when, args.duration, move_to_working_day=args.move_to_working_day,
                           office_hours=args.office_hours)
    except CalendarInputError as exc:
        raise CliError(str(exc)) from None


async def _directory(settings: Settings, args: argparse.Namespace) -> None:
    from mcu.directory_cli import DirectoryInputError, run_directory

    try:
        await run_directory(settings, args)
    except DirectoryInputError as exc:
        raise CliError(str(exc)) from None


async def _report(settings: Settings, args: argparse.Namespace) -> None:
    from mcu.report_cli import ReportCliError, run_report

    try:
        await run_report(settings, args)
    except ReportCliError as exc:
        raise CliError(str(exc)) from None


async def _import(settings: Settings, args: argparse.Namespace) -> None:
    from mcu.import_cli import ImportInputError, run_import

    try:
        imported = await run_import(settings, args.channel, args.file, dry_run=args.dry_run)
    except ImportInputError as exc:
        raise CliError(str(exc)) from None
    if not imported:
        raise CommandFailed("файл не импортирован, причины — в отчёте выше")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def dispatch(args: argparse.Namespace, settings: Settings) -> None:
    if args.command in PARTS:
        from mcu.runtime import run

        await run(settings, PARTS[args.command])
    elif args.command == "db":
        await _db_upgrade(settings)
    elif args.command == "staff":
        staff_commands = {"add": _staff_add, "password": _staff_password, "invite": _staff_invite}
        await staff_commands[args.staff_command](settings, args)
    elif args.command == "status":
        await _status(settings)
    elif args.command == "mail":
        await _mail_test(settings, args.to)
    elif args.command == "sandbox":
        await _sandbox(settings, args)
    elif args.command == "calendar":
        await _calendar(settings, args)
    elif args.command == "import":
        await _import(settings, args)
    elif args.command in ("org", "official", "route", "demo"):
        await _directory(settings, args)
    elif args.command == "report":
        await _report(settings, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic").setLevel(logging.WARNING)
        asyncio.run(dispatch(args, settings))
    except (ConfigError, CliError) as exc:
        print(f"mcu: {exc}", file=sys.stderr)
        return 2
    except CommandFailed as exc:
        print(f"mcu: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        print(f"mcu: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the operator gets one line; the traceback goes to the log at DEBUG
        logging.getLogger("mcu").debug("failed", exc_info=True)
        print(f"mcu: {_one_line(exc)}", file=sys.stderr)
        return 1
    return 0


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    detail = text[0] if text else ""
    return f"{type(exc).__name__}: {detail}"[:300]


if __name__ == "__main__":
    sys.exit(main())

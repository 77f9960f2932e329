"""`mcu org`, `mcu official`, `mcu route`, `mcu demo`: the routing directory from the command line,
so the centre can be set up before anyone opens the web admin.

    mcu org add --name "Отдел ЖКХ" --email zhkh@example.ru      mcu org list
    mcu official add --org 1 --name "Иванов И. И." --telegram-id 123456789
    mcu route add --org 1 --topic housing [--settlement Высокое] [--priority 5]
    mcu route list | mcu route off 3 | mcu route history 3 | mcu route themes --topic housing
    mcu demo [--items 300] [--days 60]

Bad input raises DirectoryInputError (`mcu.cli` turns it into one line and exit code 2). What a
command did is printed only after its transaction is committed.
"""
from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the heavy imports wait until the input is parsed
    from sqlalchemy.ext.asyncio import AsyncSession

    from core.demo import DemoItems, DemoResult
    from core.directories import DirectoryNames
    from core.settings import Settings
    from db.models import AuditEntry

COMMANDS = frozenset({"org", "official", "route", "demo"})
# core/seed.py TOPICS; tests/routing check that this stays the same list.
TOPIC_CODES = "health, education, social, housing, waste, roads, transport, energy, other"
KIND_HELP = "department (отдел администрации), institution (учреждение), enterprise (предприятие), " \
            "external (сторонняя организация)"
NONE = "—"


class DirectoryInputError(ValueError):
    """Bad command-line input, explained in one line."""


# --- parsers -------------------------------------------------------------------------------------------


def add_parsers(sub: Any) -> None:
    """Registers the commands on `mcu`'s subparsers."""
    org = sub.add_parser("org", help="организации-исполнители (отделы, учреждения, предприятия)")
    org_sub = org.add_subparsers(dest="org_command", required=True, metavar="ACTION")
    add = org_sub.add_parser("add", help="добавить организацию")
    add.add_argument("--name", required=True, help="полное название, например «Отдел ЖКХ и благоустройства»")
    add.add_argument("--short", help="краткое название для карточек")
    add.add_argument("--kind", default="department", help=f"вид: {KIND_HELP}; по умолчанию department")
    add.add_argument("--email", help="e-mail: туда приходят карточки, если у организации нет исполнителей в Telegram")
    add.add_argument("--phone", help="телефон")
    org_sub.add_parser("list", help="список организаций")
    edit = org_sub.add_parser("edit", help="изменить организацию (только то, что указано)")
    edit.add_argument("id", type=int, metavar="ID", help="номер организации из mcu org list")
    edit.add_argument("--name", help="полное название")
    edit.add_argument("--short", help="краткое название (\"\" — убрать)")
    edit.add_argument("--kind", help=f"вид: {KIND_HELP}")
    edit.add_argument("--email", help="e-mail (\"\" — убрать)")
    edit.add_argument("--phone", help="телефон (\"\" — убрать)")
    state = edit.add_mutually_exclusive_group()
    state.add_argument("--off", dest="active", action="store_false", default=None,
                       help="отключить: правила с ней перестают действовать, её нельзя выбрать")
    state.add_argument("--on", dest="active", action="store_true", default=None, help="включить снова")

    official = sub.add_parser("official", help="исполнители организаций (роль recipient)")
    official_sub = official.add_subparsers(dest="official_command", required=True, metavar="ACTION")
    add = official_sub.add_parser(
        "add", help="добавить исполнителя или перевести его в другую организацию",
        description="Исполнитель получает карточки обращений своей организации: в Telegram, а без Telegram — "
                    "на e-mail. Тот же Telegram id (или, без него, тот же e-mail) — тот же человек: "
                    "команда обновит его данные.")
    add.add_argument("--org", type=int, required=True, metavar="ID", help="номер организации из mcu org list")
    add.add_argument("--name", required=True, help="ФИО")
    add.add_argument("--telegram-id", type=int, help="числовой id пользователя Telegram")
    add.add_argument("--email", help="e-mail (обязателен, если нет Telegram)")
    add.add_argument("--position", help="должность")
    lst = official_sub.add_parser("list", help="список исполнителей")
    lst.add_argument("--org", type=int, metavar="ID", help="только этой организации")

    route = sub.add_parser("route", help="правила распределения: направление × тема × населённый пункт → организация")
    route_sub = route.add_subparsers(dest="route_command", required=True, metavar="ACTION")
    add = route_sub.add_parser(
        "add", help="добавить правило",
        description="Пустой ключ подходит ко всему. Побеждает самое точное правило (больше ключей; тема точнее "
                    "направления), затем больший приоритет. Правило без ключей — правило по умолчанию: "
                    "для всего, что не подошло под другие; оно может быть только одно.")
    add.add_argument("--org", type=int, required=True, metavar="ID", help="номер организации из mcu org list")
    add.add_argument("--topic", metavar="CODE", help=f"направление: {TOPIC_CODES}")
    add.add_argument("--theme", type=int, metavar="ID", help="номер темы из mcu route themes")
    add.add_argument("--settlement", metavar="NAME", help="населённый пункт, например Высокое")
    add.add_argument("--priority", type=int, default=0, help="приоритет при равной точности (по умолчанию 0)")
    lst = route_sub.add_parser("list", help="действующие правила")
    lst.add_argument("--all", action="store_true", help="и отключённые")
    off = route_sub.add_parser("off", help="отключить правило")
    off.add_argument("id", type=int, metavar="ID", help="номер правила из mcu route list")
    history = route_sub.add_parser("history", help="история изменений правила")
    history.add_argument("id", type=int, metavar="ID", help="номер правила")
    themes = route_sub.add_parser("themes", help="темы (второй уровень) и их номера для --theme")
    themes.add_argument("--topic", metavar="CODE", help=f"только этого направления: {TOPIC_CODES}")

    demo = sub.add_parser(
        "demo", help="демо-округ: справочник организаций и правил и история обращений (повторный запуск ничего "
                     "не портит)",
        description="Добавляет демо-организации и правила, а затем (--items больше 0) демо-исполнителей и "
                    "обращения вымышленных жителей за последние --days дней: каждое проходит через те же службы, "
                    "что и настоящее (регистрация, распределение, ответ, проверка, опрос), поэтому история, "
                    "сроки и отчёты согласованы. Никому ничего не отправляется. Обращения добавляются один раз; "
                    "чтобы начать с чистого листа, удалите базу (data/mcu.db) и запустите снова.")
    demo.add_argument("--items", type=int, default=300, metavar="N",
                      help="сколько демо-обращений создать (по умолчанию 300; 0 — только справочник)")
    demo.add_argument("--days", type=int, default=60, metavar="D",
                      help="за сколько последних дней (по умолчанию 60)")


# --- output helpers -------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Columns aligned by the widest cell; numbers to the right."""
    cells = [[NONE if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in [list(headers), *cells]) for i in range(len(headers))]
    numeric = [any(r[i] != NONE for r in cells) and all(r[i].lstrip("-").isdigit() or r[i] == NONE for r in cells)
               for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(row, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(r) for r in cells)])


def names_ru(session: AsyncSession) -> DirectoryNames:
    """Ids to names, in Russian: the admin's pages use the same `core.directories.DirectoryNames`."""
    from core.directories import DirectoryNames
    from core.i18n import gettext_for

    return DirectoryNames(session, gettext_for("ru"))


def local(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M")


# --- org ------------------------------------------------------------------------------------------------


async def org_add(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import ORGANISATION_KINDS, add_organisation

    org = await add_organisation(session, name=args.name, short_name=args.short, kind=args.kind, email=args.email,
                                 phone=args.phone, staff_id=None, now=now)
    return (f"Организация добавлена: № {org.id} {org.name} ({ORGANISATION_KINDS[org.kind]})"
            + (f", e-mail {org.email}" if org.email else "") + "\n"
            f"Дальше: исполнители — mcu official add --org {org.id} --name ... --telegram-id ...; "
            f"правило — mcu route add --org {org.id} --topic ...")


async def org_list(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import (
        ORGANISATION_KINDS,
        list_organisations,
        list_rules,
        officials_of,
    )

    orgs = sorted(await list_organisations(session), key=lambda o: o.id)
    if not orgs:
        return "Организаций пока нет. Добавьте: mcu org add --name ... (или mcu demo — демо-справочник)."
    rules = await list_rules(session)
    rows = []
    for org in orgs:
        officials = len(await officials_of(session, org.id))
        rows.append((org.id, org.name, org.short_name, ORGANISATION_KINDS.get(org.kind, org.kind), org.email,
                     org.phone, officials, sum(r.organisation_id == org.id for r in rules),
                     "действует" if org.is_active else "отключена"))
    return table(("№", "Название", "Кратко", "Вид", "E-mail", "Телефон", "Исполн.", "Правил", "Состояние"), rows)


async def org_edit(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import get_organisation, update_organisation

    given = {"name": args.name, "short_name": args.short, "kind": args.kind, "email": args.email,
             "phone": args.phone, "is_active": args.active}
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise DirectoryInputError("нечего менять: укажите --name, --short, --kind, --email, --phone, --off или --on")
    org = await get_organisation(session, args.id)
    before = {k: getattr(org, k) for k in changes}
    org = await update_organisation(session, args.id, staff_id=None, now=now, **changes)
    labels = {"name": "название", "short_name": "кратко", "kind": "вид", "email": "e-mail", "phone": "телефон",
              "is_active": "действует"}
    diff = [f"{labels[k]}: {_shown(before[k])} → {_shown(getattr(org, k))}"
            for k in changes if before[k] != getattr(org, k)]
    if not diff:
        return f"Организация № {org.id} {org.name}: ничего не изменилось."
    return f"Организация № {org.id} {org.name} изменена: " + "; ".join(diff)


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "да" if value else "нет"
    return NONE if value is None else str(value)


# --- official -------------------------------------------------------------------------------------------


async def official_add(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from sqlalchemy import select

    from core.routing import add_official
    from db.models import AuditEntry

    staff = await add_official(session, organisation_id=args.org, name=args.name, telegram_id=args.telegram_id,
                               email=args.email, position=args.position, staff_id=None, now=now)
    action = await session.scalar(
        select(AuditEntry.action)
        .where(AuditEntry.entity == "staff", AuditEntry.entity_id == staff.id, AuditEntry.at == now)
        .order_by(AuditEntry.id.desc()).limit(1)
    )
    verb = {"official.create": "добавлен", "official.update": "обновлён"}.get(action or "", "уже был записан так же")
    org = await names_ru(session).org(staff.organisation_id)
    lines = [f"Исполнитель {verb}: {staff.name} — {org}"
             + (f", telegram id {staff.telegram_id}" if staff.telegram_id else "")
             + (f", e-mail {staff.email}" if staff.email else "")]
    if staff.telegram_id:
        lines.append("Попросите его открыть бота МЦУ и нажать «Старт»: без этого Telegram не даст боту ему написать.")
    else:
        lines.append("Без Telegram карточки обращений будут приходить ему на e-mail.")
    return "\n".join(lines)


async def official_list(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import list_officials

    people = await list_officials(session, args.org)
    if not people:
        return "Исполнителей пока нет. Добавьте: mcu official add --org ID --name ... --telegram-id ..."
    names = names_ru(session)
    rows = [(s.id, s.name, await names.org(s.organisation_id) if s.organisation_id else NONE, s.telegram_id,
             s.email, s.position) for s in people]
    return table(("№", "ФИО", "Организация", "Telegram id", "E-mail", "Должность"), rows)


# --- route ----------------------------------------------------------------------------------------------


async def route_add(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import (
        add_rule,
        find_settlement,
        find_topic,
        get_organisation,
        officials_of,
    )

    topic = await find_topic(session, args.topic) if args.topic else None
    settlement = await find_settlement(session, args.settlement) if args.settlement else None
    rule = await add_rule(session, organisation_id=args.org, topic_id=topic.id if topic else None,
                          theme_id=args.theme, settlement_id=settlement.id if settlement else None,
                          priority=args.priority, staff_id=None, now=now)
    names = names_ru(session)
    lines = [f"Правило № {rule.id} добавлено: {await names.rule(rule)}"]
    if (rule.topic_id, rule.theme_id, rule.settlement_id) == (None, None, None):
        lines.append("Это правило по умолчанию: к нему уйдёт всё, что не подошло под другие правила.")
    org = await get_organisation(session, rule.organisation_id)
    if not await officials_of(session, org.id) and not org.email:
        lines.append(f"Внимание: у организации № {org.id} {org.name} нет ни исполнителей, ни e-mail — обращения ей придётся передавать "
                     f"вручную. Добавьте исполнителя: mcu official add --org {org.id} ...")
    return "\n".join(lines)


async def route_list(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import list_rules

    rules = await list_rules(session, active_only=not args.all)
    if not rules:
        return "Правил пока нет. Добавьте: mcu route add --org ID --topic CODE (или mcu demo — демо-справочник)."
    names = names_ru(session)
    rows: list[tuple[object, ...]] = []
    for r in rules:
        catch_all = (r.topic_id, r.theme_id, r.settlement_id) == (None, None, None)
        row = (r.id, "всё остальное" if catch_all else await names.topic(r.topic_id), await names.theme(r.theme_id),
               await names.settlement(r.settlement_id), r.priority, await names.org(r.organisation_id))
        rows.append(row + ("действует" if r.is_active else "отключено",) if args.all else row)
    headers = ("№", "Направление", "Тема", "Населённый пункт", "Приоритет", "Организация")
    return table(headers + ("Состояние",) if args.all else headers, rows)


async def route_off(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import deactivate_rule

    rule = await deactivate_rule(session, args.id, staff_id=None, now=now)
    return f"Правило № {rule.id} отключено: {await names_ru(session).rule(rule)}"


async def _history_line(names: DirectoryNames, entry: AuditEntry, settings: Settings) -> str:
    from core.directories import rule_change_text

    return f"{local(entry.at, settings)}  {await names.staff(entry.staff_id)}: {await rule_change_text(names, entry)}"


async def route_history(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from core.routing import rule_history
    from db.models import RoutingRule

    entries = await rule_history(session, args.id)
    rule = await session.get(RoutingRule, args.id)
    assert rule is not None
    names = names_ru(session)
    state = "действует" if rule.is_active else "отключено"
    lines = [f"Правило № {rule.id}: {await names.rule(rule)}, {state}"]
    lines += [await _history_line(names, e, settings) for e in entries]
    if not entries:
        lines.append("Изменений не записано (правило создано до ведения истории).")
    return "\n".join(lines)


async def route_themes(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    from sqlalchemy import select

    from core.routing import find_topic
    from db.models import Theme, Topic

    query = (select(Theme, Topic).join(Topic, Topic.id == Theme.topic_id).where(Theme.is_active.is_(True))
             .order_by(Topic.sort, Theme.group_name, Theme.name))
    if args.topic:
        query = query.where(Topic.id == (await find_topic(session, args.topic)).id)
    rows = [(theme.id, topic.code, theme.group_name, theme.name) for theme, topic in await session.execute(query)]
    return table(("№", "Направление", "Группа", "Тема"), rows) if rows else "Тем нет."


# --- demo -----------------------------------------------------------------------------------------------


async def demo(session: AsyncSession, args: argparse.Namespace, now: datetime, settings: Settings) -> str:
    """The directory alone (`--items 0`)."""
    from core.demo import seed_demo_directory

    return await _demo_directory_text(session, await seed_demo_directory(session, now), officials=0)


async def _demo_directory_text(session: AsyncSession, result: DemoResult, *, officials: int) -> str:
    if not result.changed:
        return "Демо-справочник уже на месте: ничего не добавлено."
    names = names_ru(session)
    lines = [f"Добавлено организаций: {len(result.organisations)}, правил: {len(result.rules)}."]
    lines += [f"  организация № {o.id} {o.name}, {o.email}" for o in result.organisations]
    lines += [f"  правило № {r.id}: {await names.rule(r)}" for r in result.rules]
    if officials:
        lines.append(f"Демо-исполнителей: {officials} (без Telegram, почта …@novodugino.example); для работы "
                     "добавьте настоящих — mcu official add --org ID --name ... --telegram-id ...")
    else:
        lines.append("Исполнителей нет: добавьте настоящих — mcu official add --org ID --name ... --telegram-id ...")
    return "\n".join(lines)


async def run_demo(settings: Settings, args: argparse.Namespace, *, now: datetime | None = None) -> None:
    """`mcu demo`: the directory, then the items in the same transaction, with progress as they come."""
    if args.items < 0:
        raise DirectoryInputError("--items: число не меньше 0")
    if args.days < 1:
        raise DirectoryInputError("--days: число не меньше 1")
    import time

    from core.demo import seed_demo_items
    from core.routing import RoutingError
    from mcu.database import open_database

    moment = now or datetime.now(UTC)
    started = time.monotonic()
    step = max(1, args.items // 10)

    def progress(done: int, total: int) -> None:
        if done % step == 0 or done == total:
            print(f"Демо-обращения: {done} из {total}…", flush=True)

    try:
        async with open_database(settings) as db, db.sessionmaker() as session, session.begin():
            if args.items == 0:
                output = await demo(session, args, moment, settings)
            else:
                items = await seed_demo_items(session, settings, now=moment, count=args.items, days=args.days,
                                              progress=progress)
                output = _demo_items_line(items, args.days, time.monotonic() - started)
                if items.directory is not None:
                    output = await _demo_directory_text(session, items.directory, officials=items.officials) + \
                        "\n" + output
    except RoutingError as exc:
        raise DirectoryInputError(str(exc)) from None
    print(output)


def _demo_items_line(items: DemoItems, days: int, seconds: float) -> str:
    if items.already is not None:
        return (f"Демо-обращения уже есть ({items.already}): ничего не добавлено. Чтобы начать с чистого листа, "
                "удалите базу (data/mcu.db) и запустите mcu demo снова.")
    closed = sum(n for status, n in items.statuses.items() if status in ("closed", "withdrawn", "rejected"))
    delivered = items.statuses.get("delivered", 0)
    working = items.created - closed - delivered
    line = (f"Демо-обращений: {items.created} за {days} дн.: закрыто {closed}, ответ у жителя {delivered}, "
            f"в работе {working} (просрочено сейчас {items.overdue}); жителей: {items.citizens}; {seconds:.1f} с.")
    if items.refused:
        line += f" Шагов, отклонённых службами: {items.refused} (подробности — в журнале)."
    return line


Handler = Callable[["AsyncSession", argparse.Namespace, datetime, "Settings"], Awaitable[str]]
HANDLERS: dict[tuple[str, str | None], Handler] = {
    ("org", "add"): org_add, ("org", "list"): org_list, ("org", "edit"): org_edit,
    ("official", "add"): official_add, ("official", "list"): official_list,
    ("route", "add"): route_add, ("route", "list"): route_list, ("route", "off"): route_off,
    ("route", "history"): route_history, ("route", "themes"): route_themes,
}


async def run_directory(settings: Settings, args: argparse.Namespace, *, now: datetime | None = None) -> None:
    from core.routing import RoutingError
    from mcu.database import open_database

    if args.command == "demo":
        await run_demo(settings, args, now=now)
        return
    action = getattr(args, f"{args.command}_command", None)
    handler = HANDLERS[(args.command, action)]
    moment = now or datetime.now(UTC)
    try:
        async with open_database(settings) as db, db.sessionmaker() as session, session.begin():
            output = await handler(session, args, moment, settings)
    except RoutingError as exc:
        raise DirectoryInputError(str(exc)) from None
    print(output)

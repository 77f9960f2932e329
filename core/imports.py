"""Items from the spreadsheet exports of ПОС (Госуслуги) and «Инцидент менеджмент».

All or nothing: the whole file is checked first; if a required column is missing or any row is
bad, nothing is written and the report lists every problem, so staff fix the file and load it
again. Rows whose number was already imported for the channel are skipped, so loading the same
file twice changes nothing. Unknown themes and settlements are not errors: the item goes to
«Прочее» or keeps the place in its address, and the report warns.

Times in the files are the district's local time. An imported item was registered in the source
system when it was created there, so its deadlines run from that moment, not from the import.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.i18n import gettext_for
from core.lifecycle import N_, LifecycleContext, after_registration, tell_import
from core.registration import EXTERNAL_ID_MAX, channel_label, register_staff_item
from core.settlements import name_key, settlement_key
from core.tables import Candidate, TableError, candidates, is_empty
from db.models import Channel, Item, ItemKind, Settlement, Theme, Topic

IMPORT_CHANNELS = (Channel.pos, Channel.im)
MAX_ROWS = 50_000  # a month of a big region; bigger files should be split
ADDRESS_MAX = 1024
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

# Header names as the systems and people write them; compared by `header_key`.
FIELDS: dict[str, tuple[str, ...]] = {
    "number": ("Номер", "№", "№ обращения", "Номер обращения", "Внешний номер", "Номер сообщения",
               "Номер инцидента", "ID", "Number", "External number", "External ID"),
    "created": ("Дата создания", "Создано", "Дата и время создания", "Дата поступления", "Дата регистрации",
                "Дата", "Created", "Created at", "Creation date", "Date"),
    "group": ("Группа тем", "Тематика", "Группа", "Категория", "Theme group", "Group", "Category"),
    "theme": ("Тема", "Подкатегория", "Theme", "Subject", "Subcategory"),
    "municipality": ("Муниципальное образование", "МО", "Муниципалитет", "Municipality"),
    "settlement": ("Населенный пункт", "Населённый пункт", "НП", "Settlement", "Locality"),
    "address": ("Адрес", "Address"),
    "text": ("Текст", "Текст обращения", "Текст сообщения", "Описание", "Содержание", "Text", "Description",
             "Message"),
    "fz59": ("fz59", "59-ФЗ", "По 59-ФЗ", "Обращение по 59-ФЗ", "FZ-59"),
}
LABELS = {
    "number": N_("номер"), "created": N_("дата создания"), "group": N_("группа тем"), "theme": N_("тема"),
    "municipality": N_("муниципальное образование"), "settlement": N_("населённый пункт"),
    "address": N_("адрес"), "text": N_("текст"), "fz59": N_("59-ФЗ"),
}
REQUIRED = ("number", "created", "text")

_DATE_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S",
                 "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TRUE = frozenset({"true", "да", "1", "yes", "истина", "y", "д"})
_FALSE = frozenset({"false", "нет", "0", "no", "ложь", "n", "н", ""})


def header_key(text: Any) -> str:
    value = str(text or "").lower().replace("ё", "е").replace("№", "номер")
    return re.sub(r"[\W_]+", "", value)


_SYNONYMS = {header_key(name): name_field for name_field, names in FIELDS.items() for name in names}


# --- the report ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # as the spreadsheet shows it
    column: str  # the header as written in the file
    value: str
    reason: str  # a Russian msgid
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, _: Callable[[str], str]) -> str:
        return _(self.reason).format(**self.params)


@dataclass(slots=True)
class ImportWarning:
    reason: str  # a Russian msgid
    params: dict[str, Any]
    rows: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ImportReport:
    file_name: str
    channel: str
    dry_run: bool = False
    rows: int = 0  # rows with data
    imported: int = 0  # in a dry run: how many would be
    skipped_existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[ImportWarning] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    refused_reason: str | None = None  # the whole file refused: a msgid …
    refused_params: dict[str, Any] = field(default_factory=dict)  # … and its values

    @property
    def refused(self) -> bool:
        """Nothing was imported because of the file: a missing column, an unreadable file, bad rows."""
        return self.refused_reason is not None or bool(self.errors)

    def warn(self, reason: str, row: int, **params: Any) -> None:
        for warning in self.warnings:
            if warning.reason == reason and warning.params == params:
                warning.rows.append(row)
                return
        self.warnings.append(ImportWarning(reason, params, [row]))


# --- directories ----------------------------------------------------------------------------------------


@dataclass
class Directory:
    """Themes, topics and settlements by their matching keys, loaded once per file."""

    themes: dict[tuple[str, str], tuple[int, int]]  # (group, theme) → (theme id, topic id)
    theme_names: dict[str, list[tuple[int, int]]]
    groups: dict[str, int]  # group → its topic
    topics: dict[str, int]  # a topic's Russian or English name or code → id
    topic_names: dict[int, Topic]
    other_topic: int | None
    settlements: dict[str, int]

    @classmethod
    async def load(cls, session: Any) -> Directory:
        themes, theme_names, groups = {}, {}, {}
        for theme in (await session.scalars(select(Theme).where(Theme.is_active.is_(True)))).all():
            g, t = name_key(theme.group_name), name_key(theme.name)
            themes[(g, t)] = (theme.id, theme.topic_id)
            theme_names.setdefault(t, []).append((theme.id, theme.topic_id))
            groups.setdefault(g, theme.topic_id)
        topic_rows = (await session.scalars(select(Topic))).all()
        topics = {}
        for topic in topic_rows:
            for name in (topic.name_ru, topic.name_en, topic.code):
                topics[name_key(name)] = topic.id
        settlements = {}
        for s in (await session.scalars(select(Settlement).where(Settlement.is_active.is_(True)))).all():
            settlements.setdefault(settlement_key(s.name), s.id)
        return cls(themes, theme_names, groups, topics, {t.id: t for t in topic_rows},
                   topics.get("other"), settlements)

    def classify(self, group: str, theme: str) -> tuple[int | None, int | None, bool]:
        """(topic, theme, known): an unknown theme or group falls back to the group's topic or «Прочее»."""
        g, t = name_key(group), name_key(theme)
        if t:
            if (g, t) in self.themes:
                theme_id, topic_id = self.themes[(g, t)]
                return topic_id, theme_id, True
            same_name = self.theme_names.get(t, [])
            if g not in self.groups and len(same_name) == 1:
                theme_id, topic_id = same_name[0]
                return topic_id, theme_id, True
            if not g and t in self.topics:
                return self.topics[t], None, True
            return self.groups.get(g) or self.topics.get(g) or self.other_topic, None, False
        if g:
            topic_id = self.groups.get(g) or self.topics.get(g)
            return (topic_id, None, True) if topic_id is not None else (self.other_topic, None, False)
        return None, None, True


# --- reading rows -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Header:
    row: int
    columns: dict[str, int]  # field → column index
    names: dict[str, str]  # field → the header as written

    @property
    def score(self) -> tuple[int, int]:
        return sum(f in self.columns for f in REQUIRED), len(self.columns)


def _match_header(row: int, values: list[Any]) -> _Header:
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, value in enumerate(values):
        found = _SYNONYMS.get(header_key(value)) if value is not None else None
        if found is not None and found not in columns:  # the first of two synonyms wins
            columns[found], names[found] = index, str(value).strip()
    return _Header(row, columns, names)


def _choose(options: list[Candidate]) -> tuple[Candidate, _Header] | None:
    """The sheet or delimiter, and the row within its first rows, whose header we recognise best."""
    best: tuple[Candidate, _Header] | None = None
    for option in options:
        for number, values in option.head:
            header = _match_header(number, values)
            if header.columns and (best is None or header.score > best[1].score):
                best = option, header
    return best


@dataclass(frozen=True, slots=True)
class _Row:
    row: int
    external_id: str
    received_at: datetime
    kind: ItemKind
    text: str
    topic_id: int | None
    theme_id: int | None
    settlement_id: int | None
    address: str | None


def _cell(values: list[Any], header: _Header, name: str) -> Any:
    index = header.columns.get(name)
    return values[index] if index is not None and index < len(values) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def parse_created(value: Any, tz: ZoneInfo) -> datetime:
    """A cell of the «created» column as an aware UTC moment; ValueError if unreadable."""
    from openpyxl.utils.datetime import from_excel

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 1 <= value < 2958466:
            raise ValueError(value)
        value = from_excel(value)  # an Excel serial date that lost its format
    elif isinstance(value, str):
        text = " ".join(value.replace(",", " ").split())
        if re.fullmatch(r"\d{5}(?:\.\d+)?", text):
            value = from_excel(float(text))
        else:
            value = _parse_text_date(text)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tz).astimezone(UTC)
    raise ValueError(value)


def _parse_text_date(text: str) -> datetime:
    candidate = text.replace("T", " ")
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(candidate, pattern)
        except ValueError:
            continue
    return datetime.fromisoformat(text)  # with an offset: 2026-03-01T10:00:00+03:00


def _parse_rows(option: Candidate, header: _Header, channel: Channel, directory: Directory, now: datetime,
                tz: ZoneInfo, report: ImportReport) -> list[_Row]:
    rows: list[_Row] = []
    first_row_of: dict[str, int] = {}
    for number, values in option.rows():
        if number <= header.row or is_empty(values):
            continue
        report.rows += 1
        if report.rows > MAX_ROWS:
            report.refused_reason = N_("в файле больше {limit} строк; разделите его на части")
            report.refused_params = {"limit": MAX_ROWS}
            return []
        parsed = _parse_row(number, values, header, channel, directory, now, tz, report, first_row_of)
        if parsed is not None:
            rows.append(parsed)
    return rows


def _parse_row(number: int, values: list[Any], header: _Header, channel: Channel, directory: Directory,
               now: datetime, tz: ZoneInfo, report: ImportReport, first_row_of: dict[str, int]) -> _Row | None:
    def error(name: str, value: Any, reason: str, **params: Any) -> None:
        shown = _text(value)
        report.errors.append(RowError(number, header.names.get(name, name), shown[:80], reason, params))

    errors_before = len(report.errors)
    external_id = _text(_cell(values, header, "number"))
    if not external_id:
        error("number", "", N_("пустой номер"))
    elif len(external_id) > EXTERNAL_ID_MAX:
        error("number", external_id, N_("номер длиннее {limit} знаков"), limit=EXTERNAL_ID_MAX)
    elif external_id in first_row_of:
        error("number", external_id, N_("этот номер уже есть в строке {row}"), row=first_row_of[external_id])
    else:
        first_row_of[external_id] = number

    raw_created = _cell(values, header, "created")
    received_at = None
    if is_empty([raw_created]):
        error("created", "", N_("пустая дата"))
    else:
        try:
            received_at = parse_created(raw_created, tz)
        except (ValueError, OverflowError):
            error("created", raw_created, N_("дата не распознана; нужна дд.мм.гггг чч:мм или гггг-мм-дд чч:мм"))
        else:
            if received_at > now:
                error("created", raw_created, N_("дата в будущем"))
            elif received_at < EARLIEST:
                error("created", raw_created, N_("дата раньше 2000 года — проверьте столбец"))

    text = _text(_cell(values, header, "text"))
    if not text:
        error("text", "", N_("пустой текст"))

    kind = ItemKind.message
    if channel is Channel.pos and "fz59" in header.columns:
        flag = _text(_cell(values, header, "fz59")).lower()
        if flag in _TRUE:
            kind = ItemKind.appeal
        elif flag not in _FALSE:
            error("fz59", flag, N_("не понятно, обращение ли это по 59-ФЗ; нужно да/нет, true/false или 1/0"))

    if len(report.errors) > errors_before or received_at is None:
        return None
    topic_id, theme_id, settlement_id, address = _place_and_theme(number, values, header, directory, report)
    return _Row(number, external_id, received_at, kind, text, topic_id, theme_id, settlement_id, address)


def _place_and_theme(number: int, values: list[Any], header: _Header, directory: Directory,
                     report: ImportReport) -> tuple[int | None, int | None, int | None, str | None]:
    group, theme = _text(_cell(values, header, "group")), _text(_cell(values, header, "theme"))
    topic_id, theme_id, known = directory.classify(group, theme)
    if not known:
        topic = directory.topic_names.get(topic_id) if topic_id is not None else None
        report.warn(N_("тема «{theme}» (группа «{group}») не найдена в справочнике — отнесено к теме «{topic}»"),
                    number, theme=theme or "—", group=group or "—",
                    topic=topic.name_ru if topic else "—", topic_en=topic.name_en if topic else "—")
    settlement = _text(_cell(values, header, "settlement"))
    settlement_id = directory.settlements.get(settlement_key(settlement)) if settlement else None
    parts = [_text(_cell(values, header, "address"))]
    if settlement_id is None:
        parts = [_text(_cell(values, header, "municipality")), settlement, *parts]
        if settlement:
            report.warn(N_("населённый пункт «{name}» не найден в справочнике — сохранён в адресе"), number,
                        name=settlement)
    address = ", ".join(p for p in parts if p) or None
    if address and len(address) > ADDRESS_MAX:
        report.warn(N_("адрес длиннее {limit} знаков сокращён"), number, limit=ADDRESS_MAX)
        address = address[: ADDRESS_MAX - 1] + "…"
    return topic_id, theme_id, settlement_id, address


# --- the import -----------------------------------------------------------------------------------------


Progress = Callable[[int, int], None]


async def import_file(ctx: LifecycleContext, data: bytes, file_name: str, channel: Channel | str, *,
                      staff_id: int | None = None, dry_run: bool = False,
                      progress: Progress | None = None) -> ImportReport:
    """Check the file and register its new rows in the caller's transaction (the caller commits).

    With `dry_run` nothing is written: the report says how many rows would be imported.
    `progress(done, total)` is called after each row of a file that passed the checks.
    """
    channel = Channel(channel)
    if channel not in IMPORT_CHANNELS:
        raise ValueError(f"import is for ПОС and «Инцидент менеджмент», not {channel}")
    report = ImportReport(file_name=file_name, channel=channel.value, dry_run=dry_run)
    try:
        rows = await _check(ctx, data, file_name, channel, report)
    except TableError as exc:
        report.refused_reason, report.refused_params = exc.message, exc.values
        return report
    if report.refused:
        return report
    existing = await _already_imported(ctx, channel, [r.external_id for r in rows])
    imported: list[Item] = []
    for done, row in enumerate(rows, start=1):
        if row.external_id in existing:
            report.skipped_existing += 1
        elif dry_run:
            report.imported += 1
        else:
            item = await register_staff_item(
                ctx.session, channel=channel, kind=row.kind, text=row.text, received_at=row.received_at,
                registered_at=row.received_at, staff_id=staff_id, now=ctx.now, tz=ctx.tz,
                deadlines=ctx.deadlines, topic_id=row.topic_id, theme_id=row.theme_id,
                settlement_id=row.settlement_id, address=row.address, external_id=row.external_id,
                comment=f"imported: {file_name}",
            )
            await after_registration(ctx, item, triage_card=False)
            imported.append(item)
            report.imported += 1
            report.numbers.append(item.number)
        if progress is not None:
            progress(done, len(rows))
    await tell_import(ctx, channel.value, file_name, imported)
    return report


async def _check(ctx: LifecycleContext, data: bytes, file_name: str, channel: Channel,
                 report: ImportReport) -> list[_Row]:
    options = candidates(data, file_name)
    chosen = _choose(options)
    if chosen is None or chosen[1].score[0] < len(REQUIRED):
        have = chosen[1].columns if chosen else {}
        report.refused_reason = N_("нет обязательных столбцов: {columns}. Первая строка таблицы должна "
                                   "содержать заголовки: «Номер», «Дата создания», «Текст»")
        report.refused_params = {"columns": [name for name in REQUIRED if name not in have]}
        return []
    option, header = chosen
    directory = await Directory.load(ctx.session)
    return _parse_rows(option, header, channel, directory, ctx.now, ctx.tz, report)


async def _already_imported(ctx: LifecycleContext, channel: Channel, numbers: Iterable[str]) -> set[str]:
    numbers = list(numbers)
    found: set[str] = set()
    for start in range(0, len(numbers), 500):  # keeps the IN list within every database's limits
        chunk = numbers[start:start + 500]
        found.update((await ctx.session.scalars(
            select(Item.external_id).where(Item.channel == channel.value, Item.external_id.in_(chunk))
        )).all())
    return found


# --- the report as text -------------------------------------------------------------------------------------


def _rows_text(rows: list[int], _: Callable[[str], str], shown: int = 10) -> str:
    text = ", ".join(str(r) for r in rows[:shown])
    if len(rows) > shown:
        text += " " + _("и ещё {count}").format(count=len(rows) - shown)
    return text


def _numbers_text(numbers: list[str]) -> str:
    if len(numbers) <= 10:
        return ", ".join(f"№ {n}" for n in numbers)
    return f"№ {numbers[0]} … № {numbers[-1]}"


def format_report(report: ImportReport, language: str | None = None) -> str:
    """The report in plain text (escape it before Telegram HTML): for the CLI and the bot."""
    _ = gettext_for(language)
    source = channel_label(report.channel, _)
    lines: list[str] = []
    if report.refused_reason is not None:
        params = dict(report.refused_params)
        if "columns" in params:
            params["columns"] = ", ".join(f"«{_(LABELS[c])}»" for c in params["columns"])
        lines.append(_("Файл «{file}» ({source}) не импортирован: {reason}.").format(
            file=report.file_name, source=source, reason=_(report.refused_reason).format(**params)))
    elif report.errors:
        lines.append(_("Файл «{file}» ({source}) не импортирован: в нём ошибки. Ничего не записано — "
                       "исправьте строки ниже и загрузите файл снова.").format(file=report.file_name, source=source))
        lines.append(_("Строк с данными: {rows}, ошибок: {errors}.").format(rows=report.rows,
                                                                          errors=len(report.errors)))
        for e in report.errors:
            where = _("строка {row}, «{column}»").format(row=e.row, column=e.column)
            value = f" («{e.value}»)" if e.value else ""
            lines.append(f"• {where}{value}: {e.text(_)}")
    else:
        if report.dry_run:
            lines.append(_("Проверка файла «{file}» ({source}) без записи: ошибок нет.").format(
                file=report.file_name, source=source))
            lines.append(_("Строк с данными: {rows}. Будет импортировано: {count}.").format(
                rows=report.rows, count=report.imported))
        else:
            lines.append(_("Файл «{file}» ({source}) импортирован.").format(file=report.file_name, source=source))
            lines.append(_("Строк с данными: {rows}. Импортировано: {count}.").format(
                rows=report.rows, count=report.imported))
            if report.numbers:
                lines.append(_("Номера: {numbers}").format(numbers=_numbers_text(report.numbers)))
        if report.skipped_existing:
            lines.append(_("Уже были импортированы раньше и пропущены: {count}.").format(
                count=report.skipped_existing))
    if report.warnings:
        lines.append("")
        lines.append(_("Предупреждения:"))
        for w in report.warnings:
            params = dict(w.params)
            if language == "en" and "topic_en" in params:
                params["topic"] = params["topic_en"]
            where = (_("строка {rows}") if len(w.rows) == 1 else _("строки {rows}")).format(rows=_rows_text(w.rows, _))
            lines.append(f"• {where}: " + _(w.reason).format(**params))
    return "\n".join(lines)

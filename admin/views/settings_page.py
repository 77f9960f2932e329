"""/settings: the run-time options of core/options.py as one form (each change audited by
`set_option`), and the process settings that matter, read-only and without secrets.

Head, curator (and admin) only. The form is saved all or nothing: one bad value and nothing changes.
Options core/options.py gains later are shown too, as plain text fields, until they get a label here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from admin.auth import MANAGER_ROLES, flash, requires
from admin.i18n import page_gettext
from admin.keys import SETTINGS
from admin.views.dir_common import (
    NOTHING_TYPED,
    Form,
    Typed,
    change_session,
    now_of,
    read_session,
    render,
    text,
)
from core.directories import list_topics
from core.options import (
    PARSERS,
    REMINDER_STEPS,
    REVIEW_MODES,
    OptionError,
    load_options,
    set_option,
)
from core.routing import N_

TEMPLATE = "settings.html"


@dataclass(frozen=True)
class Field:
    label: str
    help: str
    widget: str  # text, number, time, chat, check, checks, radio, weekday
    choices: tuple[tuple[str, str], ...] = ()


WEEKDAY_CHOICES = tuple((str(n), name) for n, name in enumerate(
    (N_("понедельник"), N_("вторник"), N_("среда"), N_("четверг"), N_("пятница"), N_("суббота"),
     N_("воскресенье")), start=1))
FIELDS: dict[str, Field] = {
    "review_mode": Field(N_("Проверка ответов МЦУ"), N_("Когда ответ исполнителя сначала проверяет МЦУ (куратор или "
                                                        "руководитель), а потом его видит житель."), "radio",
                         (("always", N_("всегда")), ("never", N_("никогда")),
                          ("topics", N_("только по выбранным направлениям")))),
    "review_topics": Field(N_("Направления с проверкой"), N_("Действует, если выбрано «только по выбранным "
                                                             "направлениям»."), "checks"),
    "auto_route": Field(N_("Автоматическое распределение"), N_("Если правило распределения однозначно, обращение "
                                                               "уходит исполнителю сразу, без подтверждения "
                                                               "ответственного."), "check"),
    "head_chat_id": Field(N_("Чат руководителя"), N_("Числовой id чата Telegram (например, рабочей группы, -100…) для "
                                                     "оповещений о просрочках и сводок. Пусто — лично сотрудникам с "
                                                     "ролью «руководитель». Бота нужно добавить в группу."), "chat"),
    "curator_chat_id": Field(N_("Чат куратора"), N_("То же для куратора. Пусто — лично сотрудникам с ролью "
                                                    "«куратор»."), "chat"),
    "survey_delay_minutes": Field(N_("Опрос после ответа, минут"), N_("Через сколько минут после доставки ответа "
                                                                      "спросить жителя «Решена ли проблема?» (в "
                                                                      "нерабочее время — в 9:00 рабочего дня)."),
                                  "number"),
    "survey_repeat_days": Field(N_("Повторный опрос, дней"), N_("Через сколько дней спросить ещё раз, если "
                                                                "обращение возобновляли; 0 — не спрашивать."),
                                "number"),
    "reminder_plan": Field(N_("Напоминания исполнителям"), N_("Какие шаги напоминаний о сроке ответа отправлять."),
                           "checks", (("half", N_("на половине срока")), ("day_before", N_("за рабочий день до срока")),
                                      ("due_morning", N_("утром в день срока")),
                                      ("overdue_daily", N_("при просрочке и затем каждый рабочий день")))),
    "digest_time": Field(N_("Утренняя сводка"), N_("Во сколько (время округа) руководитель и куратор получают в "
                                                   "рабочие дни сводку просроченных и сегодняшних сроков."), "time"),
    "move_to_working_day": Field(N_("Перенос срока с выходного"), N_("Срок в календарных днях, выпавший на "
                                                                     "выходной, переносится на следующий рабочий "
                                                                     "день (для новых сроков)."), "check"),
    "pause_while_waiting": Field(N_("Пауза, пока ждём жителя"), N_("Срок стоит, пока исполнитель ждёт ответа "
                                                                   "жителя на свой вопрос."), "check"),
    "weekly_digest_day": Field(N_("Еженедельный отчёт: день"), N_("В какой день недели руководитель и куратор "
                                                                 "получают отчёт за прошедшие 7 дней."), "weekday",
                               WEEKDAY_CHOICES),
    "weekly_digest_time": Field(N_("Еженедельный отчёт: время"), N_("Время округа, ЧЧ:ММ."), "time"),
    "monthly_digest_day": Field(N_("Ежемесячный отчёт: число"), N_("Какого числа (1–28) куратор получает отчёт за "
                                                                  "прошлый месяц."), "number"),
    "monthly_digest_time": Field(N_("Ежемесячный отчёт: время"), N_("Время округа, ЧЧ:ММ."), "time"),
}


def field_of(name: str) -> Field:
    return FIELDS.get(name) or Field(name, "", "text")


def shown(value: Any) -> str:
    """An option's value as the form shows it."""
    if value is None:
        return ""
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)


def raw_value(form: Form, name: str) -> Any:
    """What the form sent for the option, in the shape its parser takes."""
    widget = field_of(name).widget
    if widget == "check":
        return text(form, name) not in ("", "0")
    if widget == "checks":
        return [v for v in form.getall(name, []) if isinstance(v, str)]
    return text(form, name)


async def _page(request: web.Request, typed: Typed) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    async with read_session(request) as session:
        options = await load_options(session)
        topics = await list_topics(session)
    rows = []
    for name in PARSERS:
        meta = field_of(name)
        if name == "review_topics":
            meta = Field(meta.label, meta.help, meta.widget, tuple((t.code, t.name_ru) for t in topics))
        value = getattr(options, name)
        rows.append({"name": name, "field": meta, "value": shown(value),
                     "values": [str(v) for v in value] if isinstance(value, tuple) else [],
                     "on": bool(value) if isinstance(value, bool) else False})
    database = make_url(settings.effective_database_url)
    process = {
        "sandbox": settings.sandbox_mode,
        "database": "PostgreSQL" if database.get_backend_name() == "postgresql" else "SQLite",
        "smtp": settings.smtp_url is not None,
        "admin_url": settings.admin_base_url,
        "timezone": settings.timezone,
        "redis": settings.redis_url is not None,
        "webhook": settings.webhook_url is not None,
    }
    return {"rows": rows, "process": process, "typed": typed, "modes": REVIEW_MODES, "steps": REMINDER_STEPS}


@requires(*MANAGER_ROLES)
async def settings_page(request: web.Request) -> web.StreamResponse:
    return await render(request, TEMPLATE, await _page(request, NOTHING_TYPED))


class _Refused(Exception):
    """Leaves the transaction so nothing of the form is saved."""


@requires(*MANAGER_ROLES)
async def save(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    _ = page_gettext(request)
    errors: list[str] = []
    changed: list[str] = []
    try:
        async with change_session(request) as (session, staff_id):
            current = await load_options(session)
            for name, parse in PARSERS.items():
                raw = raw_value(form, name)
                try:
                    parsed = parse(raw)
                except OptionError as exc:
                    errors.append(f"{_(field_of(name).label)}: {exc.localized(_)}")
                    continue
                if parsed != getattr(current, name):
                    await set_option(session, name, raw, staff_id=staff_id, now=now_of(request))
                    changed.append(_(field_of(name).label))
            if errors:
                raise _Refused
    except _Refused:
        for error in errors:
            flash(request, error, "error")
        flash(request, _("Настройки не сохранены: исправьте отмеченное."), "error")
        return await render(request, TEMPLATE, await _page(request, Typed.of("settings", form)), status=400)
    if changed:
        flash(request, _("Сохранено: {what}.").format(what=", ".join(changed)))
    else:
        flash(request, _("Ничего не изменилось."))
    raise web.HTTPSeeOther("/settings")


def setup(app: web.Application) -> None:
    app.router.add_get("/settings", settings_page)
    app.router.add_post("/settings", save)

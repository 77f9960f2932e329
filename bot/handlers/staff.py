"""Staff commands; each checked by role on every call."""
from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from core.staff import REPORT_ROLES
from core.summary import intake_summary
from db.models import Role



async def report(message: Message, roles: frozenset[Role], session: AsyncSession, settings: Settings,
                 now: object) -> None:
    if not roles & REPORT_ROLES:
        await message.answer(
            _("Эта команда доступна только сотрудникам МЦУ. Чтобы сообщить о проблеме, просто "
              "напишите её сюда.")
        )
        return
    s = await intake_summary(session, now, settings.tz)  # type: ignore[arg-type]
    await message.answer(
        _(
            "<b>Сводка МЦУ</b>\n"
            "Поступило сегодня: {today}\n"
            "За 7 дней: {week}\n"
            "Открыто сейчас: {open}\n"
            "Из них просрочено: {overdue}\n"
            "Всего зарегистрировано: {total}"
        ).format(today=s.today, week=s.week, open=s.open, overdue=s.overdue, total=s.total)
    )


def make_router() -> Router:
    router = Router(name="staff")
    router.message.register(report, Command("report"))
    return router

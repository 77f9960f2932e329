"""/start, /help, /lang: for everyone."""
from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import LangCb
from bot.keyboards import consent_keyboard, language_keyboard
from core.citizens import set_language
from core.staff import REPORT_OWN_ORGANISATION_ROLES, REPORT_ROLES
from db.models import Citizen, Role, Staff


def consent_text() -> str:
    return _(
        "Чтобы принять ваше сообщение, нам нужно ваше согласие на обработку персональных данных "
        "(152-ФЗ): имени из профиля Telegram, текста, фото и документов, которые вы пришлёте, "
        "а также телефона и адреса, если вы их укажете. Данные используются только для "
        "рассмотрения ваших сообщений и обращений и видны только ответственным сотрудникам. "
        "Согласие можно отозвать командой /stop."
    )


def help_text(roles: frozenset[Role]) -> str:
    lines = [
        _("<b>Как пользоваться ботом</b>"),
        _("Опишите проблему одним сообщением: текст, фото, документ, голосовое сообщение или "
          "геопозиция. Каждое сообщение получает номер, по нему можно узнать статус."),
        "",
        _("/my — мои сообщения и их статус"),
        _("/lang — язык / language"),
        _("/stop — отозвать согласие на обработку персональных данных"),
        _("/help — эта справка"),
    ]
    if roles:  # any staff role: recipients work their queue too
        lines += ["", _("<b>Для сотрудников</b>"), _("/queue — что ждёт вашего решения"),
                  _("/item НОМЕР — карточка обращения, например /item 42"),
                  _("/web — одноразовая ссылка для входа в веб-админку")]
    if roles & (REPORT_ROLES | REPORT_OWN_ORGANISATION_ROLES):  # a recipient: its organisation's figures
        lines.append(_("/report — сводка по сообщениям"))
    return "\n".join(lines)


async def start(message: Message, citizen: Citizen | None, staff: Staff | None) -> None:
    name = message.from_user.first_name if message.from_user else ""
    if staff is not None:
        roles = ", ".join(sorted(staff.role_set))
        await message.answer(
            _("Здравствуйте, {name}! Вы вошли как сотрудник МЦУ (роли: {roles}).").format(
                name=staff.name, roles=roles
            )
            + "\n\n"
            + help_text(staff.role_set)
        )
        return
    greeting = _(
        "Здравствуйте, {name}! Это бот муниципального центра управления (МЦУ). "
        "Сюда можно написать о проблеме или задать вопрос: мы передадим его ответственным "
        "и проследим, чтобы вам ответили в срок."
    ).format(name=name)
    if citizen is not None and citizen.has_consent:
        await message.answer(greeting + "\n\n" + _("Опишите, что случилось, — одним сообщением."))
    else:
        await message.answer(greeting + "\n\n" + consent_text(), reply_markup=consent_keyboard())


async def help_command(message: Message, roles: frozenset[Role]) -> None:
    await message.answer(help_text(roles))


async def lang_command(message: Message) -> None:
    await message.answer(_("Выберите язык / Choose your language:"), reply_markup=language_keyboard())


async def lang_chosen(
    query: CallbackQuery,
    callback_data: LangCb,
    session: AsyncSession,
    citizen: Citizen | None,
    staff: Staff | None,
    i18n: I18n,
) -> None:
    if callback_data.code not in i18n.available_locales:
        await query.answer(_("Этот язык не поддерживается."), show_alert=True)
        return
    if citizen is not None:
        set_language(citizen, callback_data.code)
    if staff is not None:
        staff.language = callback_data.code
    await session.commit()
    with i18n.use_locale(callback_data.code):
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.edit_text(_("Язык переключён: русский."))


def make_router() -> Router:
    router = Router(name="common")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.message.register(lang_command, Command("lang"))
    router.callback_query.register(lang_chosen, LangCb.filter())
    return router

"""Builds the Bot and the Dispatcher from settings: the one place the bot is wired."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramForbiddenError
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand, BotCommandScopeDefault
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.handlers import get_routers
from bot.handlers.errors import citizen_unreachable
from bot.middlewares.database import CommitBeforeSend, DatabaseMiddleware
from bot.middlewares.locale import LocaleMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.user import UserMiddleware
from bot.retry import RetryMiddleware
from bot.storage import SqlStorage
from core.clock import Clock, system_clock
from core.deadlines import DeadlineContextCache
from core.settings import Settings

LOCALES = Path(__file__).resolve().parents[1] / "locales"


def make_bot(settings: Settings, api_url: str | None = None, *, dialogue: bool = True) -> Bot:
    """A Bot for the dialogue (commits before sending, retries a brief push-back), or, with
    `dialogue=False`, a plain one for the outbox sender, which keeps its own policy."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url or settings.telegram_api_url))
    if dialogue:
        session.middleware(CommitBeforeSend())
        session.middleware(RetryMiddleware())
    return Bot(settings.token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def make_i18n(settings: Settings) -> I18n:
    return I18n(path=LOCALES, default_locale=settings.default_language, domain="messages")


def make_storage(settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]) -> BaseStorage:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return SqlStorage(sessionmaker)


def make_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    clock: Clock = system_clock,
    storage: BaseStorage | None = None,
    throttling: ThrottlingMiddleware | None = None,
) -> Dispatcher:
    dp = Dispatcher(
        storage=storage or make_storage(settings, sessionmaker),
        settings=settings,
        deadline_cache=DeadlineContextCache(settings.tz),
    )
    # Order matters: the session first, then the dialogue state (aiogram registers its FSM
    # middleware first; moved behind the session so a redelivered update reads nothing and the
    # state is read inside the update's own transaction), then who the user is, then the language.
    dp.update.outer_middleware.unregister(dp.fsm)
    dp.update.outer_middleware(DatabaseMiddleware(sessionmaker, clock))
    dp.update.outer_middleware(dp.fsm)
    dp.update.outer_middleware(UserMiddleware())
    LocaleMiddleware(make_i18n(settings)).setup(dp)
    dp.message.outer_middleware(
        throttling or ThrottlingMiddleware(settings.throttle_burst, settings.throttle_interval)
    )
    dp.include_routers(*get_routers())
    dp.errors.register(citizen_unreachable, ExceptionTypeFilter(TelegramForbiddenError))
    run_filters_inline(dp)
    return dp


def run_filters_inline(router: Router) -> None:
    """aiogram runs every plain (not `async`) filter in a worker thread, `F.text` included: a
    thread hop per filter per update, for a check of a few microseconds. Magic filters and the
    like are pure reads of the update, so they are run on the event loop instead."""
    for each in router.chain_tail:
        for observer in each.observers.values():
            for handler in [observer._handler, *observer.handlers]:  # the router's own filters, then each handler's
                for item in handler.filters or ():
                    _inline(item)


def _inline(item: CallableObject) -> None:
    if item.awaitable:
        return
    plain = item.callback

    async def call(*args: Any, **kwargs: Any) -> Any:
        return plain(*args, **kwargs)

    item.callback = call
    item.awaitable = True


async def set_commands(bot: Bot, i18n: I18n) -> None:
    """The command menu, in each language of the catalogs."""
    for locale in i18n.available_locales:
        with i18n.use_locale(locale):
            _ = i18n.gettext
            commands = [
                BotCommand(command="start", description=_("Начать")),
                BotCommand(command="my", description=_("Мои сообщения")),
                BotCommand(command="help", description=_("Справка")),
                BotCommand(command="lang", description=_("Язык / Language")),
                BotCommand(command="stop", description=_("Отозвать согласие")),
            ]
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(commands, scope=BotCommandScopeDefault(), language_code=language)

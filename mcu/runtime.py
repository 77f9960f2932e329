"""Starting the parts: database, sandbox, bot, admin, scheduler — together or one by one."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import ClientError, ClientSession, ClientTimeout, web

from admin.app import create_app as create_admin_app
from bot.factory import make_bot, make_dispatcher, make_i18n, set_commands
from core.settings import Settings
from mcu.database import open_database
from scheduler.mail_sender import MailSender
from scheduler.outbox_sender import OutboxSender
from scheduler.runner import make_scheduler

log = logging.getLogger("mcu")
WEBHOOK_PATH = "/telegram/webhook"


def sandbox_url(settings: Settings) -> str:
    return f"http://{settings.sandbox_host}:{settings.sandbox_port}"


async def _sandbox_answers(url: str) -> bool:
    try:
        async with ClientSession(timeout=ClientTimeout(total=2)) as http, http.get(f"{url}/sandbox/bots") as r:
            return r.status == 200
    except (TimeoutError, OSError, ClientError):
        return False


@contextlib.asynccontextmanager
async def sandbox_if_needed(settings: Settings, *, start: bool) -> AsyncIterator[str | None]:
    """In sandbox mode: the URL of the local Bot API, started here unless one already runs."""
    if not settings.sandbox_mode:
        yield None
        return
    url = sandbox_url(settings)
    if not start or await _sandbox_answers(url):
        yield url
        return
    from sandbox import start_sandbox

    server = await start_sandbox(host=settings.sandbox_host, port=settings.sandbox_port)
    try:
        yield server.url
    finally:
        await server.stop()


@dataclass
class Stopper:
    event: asyncio.Event = field(default_factory=asyncio.Event)

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.event.set)


async def _start_site(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


async def _run_bot(settings: Settings, bot: Bot, dp: Dispatcher, stop: asyncio.Event) -> None:
    await set_commands(bot, make_i18n(settings))
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        app = web.Application()
        SimpleRequestHandler(dispatcher=dp, bot=bot, secret_token=secret).register(app, path=WEBHOOK_PATH)
        setup_application(app, dp, bot=bot)
        runner = await _start_site(app, settings.webhook_host, settings.webhook_port)
        await bot.set_webhook(settings.webhook_url, secret_token=secret, drop_pending_updates=False)
        log.info("webhook: %s → %s:%s%s", settings.webhook_url, settings.webhook_host,
                 settings.webhook_port, WEBHOOK_PATH)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
        return
    await bot.delete_webhook(drop_pending_updates=False)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False, close_bot_session=False))
    await stop.wait()
    await dp.stop_polling()
    with contextlib.suppress(asyncio.CancelledError, RuntimeError):
        await polling


async def run(settings: Settings, parts: frozenset[str], stop: asyncio.Event | None = None) -> None:
    """Run the chosen parts ("bot", "admin", "scheduler") until SIGINT/SIGTERM or `stop` is set."""
    stopper = Stopper(stop or asyncio.Event())
    stopper.install()
    async with contextlib.AsyncExitStack() as stack:
        db = await stack.enter_async_context(open_database(settings))
        sb_url = await stack.enter_async_context(sandbox_if_needed(settings, start="bot" in parts))
        if sb_url:
            print(f"Песочница Telegram Bot API: {sb_url} (токен бота не задан — работа без интернета)",
                  flush=True)
        tasks: list[asyncio.Task[None]] = []
        if "admin" in parts:
            admin = create_admin_app(settings, db.sessionmaker, sandbox_url=sb_url)
            runner = await _start_site(admin, settings.admin_host, settings.admin_port)
            stack.push_async_callback(runner.cleanup)
            base = f"http://{settings.admin_host}:{settings.admin_port}"
            print(f"Админка: {base}/", flush=True)
            if sb_url:
                print(f"Чат с ботом в песочнице: {base}/sandbox", flush=True)
        if "scheduler" in parts:
            scheduler = make_scheduler(db.sessionmaker, settings)
            scheduler.start()
            stack.callback(scheduler.shutdown, wait=False)
            sender_bot = make_bot(settings, api_url=sb_url, dialogue=False)
            stack.push_async_callback(sender_bot.session.close)
            sender = OutboxSender(sender_bot, db.sessionmaker,
                                  mail=MailSender.from_settings(settings, db.sessionmaker))
            tasks.append(asyncio.create_task(sender.run(stopper.event)))
        if "bot" in parts:
            bot = make_bot(settings, api_url=sb_url)
            stack.push_async_callback(bot.session.close)
            dp = make_dispatcher(settings, db.sessionmaker)
            me = await bot.get_me()
            print(f"Бот @{me.username} запущен ({'webhook' if settings.webhook_url else 'long polling'})",
                  flush=True)
            tasks.append(asyncio.create_task(_run_bot(settings, bot, dp, stopper.event)))
        print("Остановить: Ctrl+C", flush=True)
        await stopper.event.wait()
        for task in tasks:
            await task

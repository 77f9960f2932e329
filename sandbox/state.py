"""The in-memory world: bots, users, chats, messages, updates, files.

Everything a test can observe lives here; the HTTP layers only translate. It is
deliberately plain data so tests may also poke at ``server.state`` directly.
"""

from __future__ import annotations

import itertools
import time
from typing import Any, Callable

from .faults import FaultInjector
from .files import FileStore
from .limits import Clock, LimitConfig, RateLimiter
from .models import MEDIA_KINDS, BotAccount, Chat, Stats, StoredMessage, User, WebhookConfig

__all__ = ["MB", "MEDIA_KINDS", "BotAccount", "Chat", "Stats", "StoredMessage", "User", "WebhookConfig", "World"]

DEFAULT_USERNAME = "mcu_sandbox_bot"
DEFAULT_FIRST_NAME = "МЦУ (песочница)"
MB = 1024 * 1024


class World:
    """All sandbox state. Construct inside or outside a running loop."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] = time.time,
        limits: LimitConfig | dict[str, Any] | None = None,
        seed: int = 0,
        bot_username: str = DEFAULT_USERNAME,
        bot_first_name: str = DEFAULT_FIRST_NAME,
        webhook_retry: tuple[float, float] = (0.2, 30.0),
        webhook_timeout: float = 10.0,
        upload_limit: int = 50 * MB,
        download_limit: int = 20 * MB,
    ) -> None:
        if isinstance(limits, dict):
            config = LimitConfig()
            config.update(limits)
            limits = config
        self._initial_limits = dict((limits or LimitConfig()).as_dict())
        self.limiter = RateLimiter(limits or LimitConfig(), clock)
        self.seed = seed
        self.faults = FaultInjector(seed)
        self.wall_clock = wall_clock
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.webhook_retry = webhook_retry  # (first delay, max delay) in seconds
        self.webhook_timeout = webhook_timeout
        self.upload_limit = upload_limit
        self.download_limit = download_limit
        self.files = FileStore()
        self.bots: dict[str, BotAccount] = {}
        self.users: dict[int, User] = {}
        self.chats: dict[int, Chat] = {}
        self.stats = Stats()
        self.closing = False
        self._orphans: list[dict[str, Any]] = []  # updates sent before any bot existed
        self._last_update_id = 0
        self._unique_ids = itertools.count(1)

    # -- time --------------------------------------------------------------
    def now(self) -> int:
        return int(self.wall_clock())

    # -- bots --------------------------------------------------------------
    def bot(self, token: str) -> BotAccount:
        """The bot behind ``token`` (created on first use, like a fresh BotFather token)."""
        bot = self.bots.get(token)
        if bot is None:
            bot = BotAccount(int(token.split(":", 1)[0]), token, self.bot_username, self.bot_first_name)
            self.bots[token] = bot
            for update in self._orphans:
                bot.queue.push(update)
            self._orphans.clear()
        return bot

    def default_bot(self) -> BotAccount | None:
        """The first bot that talked to (or was registered with) the sandbox."""
        return next(iter(self.bots.values()), None)

    # -- users & chats -----------------------------------------------------
    def upsert_user(self, user_id: int, first_name: str | None = None, **extra: Any) -> User:
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(user_id, first_name or f"User {user_id}")
        elif first_name:
            user.first_name = first_name
        for key in ("last_name", "username", "language_code", "started"):
            if key in extra:
                setattr(user, key, extra[key])
        chat = self.chats.get(user_id)
        if chat is None:
            self.chats[user_id] = Chat(user_id, "private", user=user, members={user_id})
        return user

    def add_group(self, chat_id: int, title: str, kind: str = "group") -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self.chats[chat_id] = Chat(chat_id, kind, title=title)
        chat.title, chat.type = title, kind
        return chat

    def is_blocked(self, bot: BotAccount, user_id: int) -> bool:
        user = self.users.get(user_id)
        return user_id in bot.blocked_by or bool(user and user.blocked)

    # -- messages ----------------------------------------------------------
    def add_message(
        self,
        chat: Chat,
        content: dict[str, Any],
        *,
        sender: dict[str, Any],
        bot: BotAccount | None = None,
        markup: dict[str, Any] | None = None,
        reply_to: StoredMessage | None = None,
        silent: bool = False,
    ) -> StoredMessage:
        message_id = chat.next_message_id()
        data: dict[str, Any] = {"message_id": message_id, "from": sender, "chat": chat.to_api(), "date": self.now()}
        if reply_to is not None:
            # Telegram nests one level only.
            data["reply_to_message"] = {k: v for k, v in reply_to.data.items() if k != "reply_to_message"}
        data.update(content)
        if markup is not None and "inline_keyboard" in markup:
            data["reply_markup"] = markup
        stored = StoredMessage(chat.id, message_id, data, bot is not None, bot.id if bot else None,
                               markup, silent=silent)
        chat.messages[message_id] = stored
        if bot is not None:
            if markup is not None and ("keyboard" in markup or "remove_keyboard" in markup):
                chat.keyboard = markup if "keyboard" in markup else None
            chat.signal.fire()
        elif chat.keyboard and chat.keyboard.get("one_time_keyboard"):
            chat.keyboard = None  # a one-time keyboard hides after the user answers
        return stored

    # -- updates -----------------------------------------------------------
    def next_update_id(self, wanted: int | None = None) -> int:
        if wanted is not None:
            self._last_update_id = max(self._last_update_id, wanted)
            return wanted
        self._last_update_id += 1
        return self._last_update_id

    def unique_id(self) -> str:
        """Callback query / poll ids: Telegram's are long decimal strings."""
        return str(4_000_000_000_000_000_000 + next(self._unique_ids))

    def enqueue(self, bot: BotAccount | None, body: dict[str, Any], update_id: int | None = None,
                *, force: bool = False) -> tuple[int, bool]:
        """Queue ``{"update_id": ..., **body}`` for ``bot`` (or for the first bot to appear)."""
        uid = self.next_update_id(update_id)
        update = {"update_id": uid, **body}
        self.stats.updates_queued += 1
        if bot is None:
            self._orphans.append(update)
            return uid, True
        return uid, bot.queue.push(update, force=force)

    # -- lifecycle ---------------------------------------------------------
    def reset(self) -> None:
        """A clean slate for the next test; bot registrations survive (pollers keep working)."""
        for bot in self.bots.values():
            bot.reset()
        self.users.clear()
        self.chats.clear()
        self.files.clear()
        self._orphans.clear()
        self.stats = Stats()
        self.limiter.reset()
        self.limiter.config = LimitConfig(**self._initial_limits)
        self.faults.reset(self.seed)

    def close(self) -> None:
        self.closing = True
        for bot in self.bots.values():
            bot.stop_webhook()
            bot.queue.close()
        for chat in self.chats.values():
            chat.signal.fire()

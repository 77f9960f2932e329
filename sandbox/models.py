"""Plain records of the sandbox world: users, chats, messages, bots, stats."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .wakeup import Signal
from .updates import UpdateQueue

# Message fields holding a file, in the order a client checks them.
MEDIA_KINDS = ("photo", "document", "voice", "audio", "video", "animation", "video_note", "sticker")


@dataclass
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    blocked: bool = False  # has blocked *every* sandbox bot
    # False models a user who never pressed "Start": bots may not write first.
    started: bool = True

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data


@dataclass
class StoredMessage:
    chat_id: int
    message_id: int
    data: dict[str, Any]  # exactly what the Bot API returns / puts in an Update
    from_bot: bool
    bot_id: int | None = None
    markup: dict[str, Any] | None = None  # any keyboard kind (Message.reply_markup is inline only)
    edited: bool = False
    deleted: bool = False
    silent: bool = False

    def view(self) -> dict[str, Any]:
        """The control-API shape: flat, with sandbox-only flags."""
        d = self.data
        media_kind = next((k for k in MEDIA_KINDS if k in d), None)
        media: dict[str, Any] | None = None
        if media_kind:
            obj = d[media_kind][-1] if media_kind == "photo" else d[media_kind]
            media = {"type": media_kind, **obj, "url": f"/sandbox/files/{obj['file_id']}"}
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "date": d["date"],
            "from_bot": self.from_bot,
            "from": d.get("from"),
            "text": d.get("text"),
            "entities": d.get("entities", []),
            "caption": d.get("caption"),
            "caption_entities": d.get("caption_entities", []),
            "reply_markup": self.markup,
            "media": media,
            "media_group_id": d.get("media_group_id"),
            "contact": d.get("contact"),
            "location": d.get("location"),
            "poll": d.get("poll"),
            "reply_to_message_id": (d.get("reply_to_message") or {}).get("message_id"),
            "edited": self.edited,
            "deleted": self.deleted,
            "silent": self.silent,
            "message": d,
        }


@dataclass
class Chat:
    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    user: User | None = None  # the other side of a private chat
    members: set[int] = field(default_factory=set)
    messages: dict[int, StoredMessage] = field(default_factory=dict)  # insertion-ordered
    actions: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    keyboard: dict[str, Any] | None = None  # the reply keyboard a client would show now
    signal: Signal = field(default_factory=Signal)  # fired on every new bot message
    # Message ids are per chat, as in Telegram's private chats and groups.
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def is_group(self) -> bool:
        return self.type != "private"

    def next_message_id(self) -> int:
        return next(self._ids)

    def to_api(self) -> dict[str, Any]:
        if self.user is not None:
            user = self.user.to_api()
            data = {"id": self.id, "type": "private", "first_name": user["first_name"]}
            data.update({k: user[k] for k in ("last_name", "username") if k in user})
            return data
        return {"id": self.id, "type": self.type, "title": self.title or ""}


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotAccount:
    id: int
    token: str
    username: str
    first_name: str
    queue: UpdateQueue = field(default_factory=UpdateQueue)
    webhook: WebhookConfig | None = None
    webhook_task: asyncio.Task[None] | None = None
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    blocked_by: set[int] = field(default_factory=set)
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)  # callback_query_id → record
    properties: dict[tuple[str, str], str | None] = field(default_factory=dict)  # (field, lang) → value

    def user_api(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def reset(self) -> None:
        # A pending getUpdates keeps waiting (no 409): a running poller survives a reset.
        self.queue.clear()
        self.queue.allowed_updates = None
        self.stop_webhook()
        self.webhook = None
        self.commands.clear()
        self.menu_buttons.clear()
        self.blocked_by.clear()
        self.callbacks.clear()
        self.properties.clear()

    def stop_webhook(self) -> None:
        if self.webhook_task is not None:
            self.webhook_task.cancel()
            self.webhook_task = None


@dataclass
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[int] = field(default_factory=Counter)
    sends: int = 0
    updates_queued: int = 0
    webhook_deliveries: int = 0
    webhook_failures: int = 0

"""Async client for the control API, for tests and benchmarks.

    async with SandboxClient(server.url) as sb:
        await sb.add_user(1001, "Иван")
        sent = await sb.send_text(1001, "/start")
        answer = await sb.wait_bot_message(1001, after=sent["message"]["message_id"])
"""

from __future__ import annotations

import asyncio
import base64
from types import TracebackType
from typing import Any, Callable, Iterable, cast

import aiohttp

from .runner import SandboxServer, start_sandbox

Message = dict[str, Any]


class SandboxError(RuntimeError):
    """The control API refused a request (status + its ``error`` text)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class SandboxClient:
    def __init__(self, base_url: str, *, session: aiohttp.ClientSession | None = None,
                 bot_token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.bot_token = bot_token  # default bot for send/press when several bots exist
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> SandboxClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def request(self, method: str, path: str, json: Any = None,
                      params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Raw control-API call; every answer is a JSON object."""
        async with self.session.request(method, f"{self.base_url}{path}", json=json, params=params) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 400:
                raise SandboxError(resp.status, (data or {}).get("error", str(data)))
            return cast("dict[str, Any]", data)

    def _with_bot(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if v is not None}
        if self.bot_token and "bot_token" not in body:
            body["bot_token"] = self.bot_token
        return body

    # -- world -------------------------------------------------------------
    async def add_user(self, user_id: int, first_name: str = "Тестовый", last_name: str | None = None,
                       username: str | None = None, language_code: str | None = "ru") -> dict[str, Any]:
        body = {"id": user_id, "first_name": first_name, "last_name": last_name,
                "username": username, "language_code": language_code}
        data = await self.request("POST", "/sandbox/users", {k: v for k, v in body.items() if v is not None})
        return cast("dict[str, Any]", data["user"])

    async def users(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", (await self.request("GET", "/sandbox/users"))["users"])

    async def add_group(self, chat_id: int, title: str, members: Iterable[int] = (),
                        type: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": chat_id, "title": title, "members": list(members)}
        if type:
            body["type"] = type
        return cast("dict[str, Any]", (await self.request("POST", "/sandbox/groups", body))["chat"])

    async def add_member(self, chat_id: int, user_id: int) -> list[int]:
        return cast("list[int]", (await self.request("POST", f"/sandbox/groups/{chat_id}/members", {"user_id": user_id}))["members"])

    async def register_bot(self, token: str, username: str | None = None,
                           first_name: str | None = None) -> dict[str, Any]:
        body = {"token": token, "username": username, "first_name": first_name}
        return cast("dict[str, Any]", (await self.request("POST", "/sandbox/bots", {k: v for k, v in body.items() if v}))["bot"])

    async def bots(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", (await self.request("GET", "/sandbox/bots"))["bots"])

    # -- user actions --------------------------------------------------------
    async def send(self, user_id: int, chat_id: int | None = None, **content: Any) -> dict[str, Any]:
        """Generic user message; returns ``{"update_id", "queued", "message"}``."""
        return await self.request("POST", "/sandbox/send", self._with_bot({"user_id": user_id, "chat_id": chat_id,
                                                                          **content}))

    async def send_text(self, user_id: int, text: str, chat_id: int | None = None,
                        reply_to_message_id: int | None = None) -> dict[str, Any]:
        return await self.send(user_id, chat_id, text=text, reply_to_message_id=reply_to_message_id)

    async def send_photo(self, user_id: int, data: bytes, filename: str = "photo.jpg",
                         caption: str | None = None, chat_id: int | None = None) -> dict[str, Any]:
        return await self.send(user_id, chat_id, photo={"data": _b64(data), "filename": filename}, caption=caption)

    async def send_document(self, user_id: int, data: bytes, filename: str,
                            mime_type: str = "application/octet-stream", caption: str | None = None,
                            chat_id: int | None = None) -> dict[str, Any]:
        document = {"data": _b64(data), "filename": filename, "mime_type": mime_type}
        return await self.send(user_id, chat_id, document=document, caption=caption)

    async def send_voice(self, user_id: int, data: bytes, duration: int = 1,
                         chat_id: int | None = None) -> dict[str, Any]:
        return await self.send(user_id, chat_id, voice={"data": _b64(data), "duration": duration})

    async def send_video_note(self, user_id: int, data: bytes, duration: int = 1, length: int = 240,
                              chat_id: int | None = None) -> dict[str, Any]:
        note = {"data": _b64(data), "duration": duration, "length": length}
        return await self.send(user_id, chat_id, video_note=note)

    async def send_sticker(self, user_id: int, emoji: str = "👍", data: bytes | None = None,
                           chat_id: int | None = None) -> dict[str, Any]:
        sticker: dict[str, Any] = {"emoji": emoji}
        if data is not None:
            sticker["data"] = _b64(data)
        return await self.send(user_id, chat_id, sticker=sticker)

    async def send_contact(self, user_id: int, phone_number: str, first_name: str | None = None,
                           last_name: str | None = None, contact_user_id: int | None = None,
                           chat_id: int | None = None) -> dict[str, Any]:
        contact = {"phone_number": phone_number, "first_name": first_name, "last_name": last_name,
                   "user_id": contact_user_id}
        return await self.send(user_id, chat_id, contact={k: v for k, v in contact.items() if v is not None})

    async def send_location(self, user_id: int, latitude: float, longitude: float,
                            chat_id: int | None = None) -> dict[str, Any]:
        return await self.send(user_id, chat_id, location={"latitude": latitude, "longitude": longitude})

    async def press(self, user_id: int, message_id: int, data: str, forge: bool = False,
                    chat_id: int | None = None) -> dict[str, Any]:
        """Press an inline button; returns ``{"update_id", "callback_query_id", "queued"}``."""
        body = {"user_id": user_id, "chat_id": chat_id, "message_id": message_id,
                "callback_data": data, "forge": forge}
        return await self.request("POST", "/sandbox/press", self._with_bot(body))

    async def block(self, user_id: int, blocked: bool = True) -> dict[str, Any]:
        return await self.request("POST", "/sandbox/block", self._with_bot({"user_id": user_id, "blocked": blocked}))

    async def raw_update(self, update: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", "/sandbox/updates/raw", self._with_bot({"update": update}))

    # -- observation -------------------------------------------------------
    async def messages(self, chat_id: int, after: int = 0) -> list[Message]:
        return cast("list[Message]", (await self.request("GET", f"/sandbox/chats/{chat_id}/messages", params={"after": after}))["messages"])

    async def bot_messages(self, chat_id: int, after: int = 0) -> list[Message]:
        return [m for m in await self.messages(chat_id, after) if m["from_bot"]]

    async def chat(self, chat_id: int) -> dict[str, Any]:
        return await self.request("GET", f"/sandbox/chats/{chat_id}")

    async def wait_bot_message(self, chat_id: int, after: int = 0, timeout: float = 5.0,
                               predicate: Callable[[Message], bool] | None = None) -> Message:
        """The first bot message with id > ``after`` (matching ``predicate``); TimeoutError if none."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        cursor = after
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no bot message in chat {chat_id} after #{after} within {timeout}s")
            data = await self.request("GET", f"/sandbox/chats/{chat_id}/wait",
                                      params={"after": cursor, "timeout": f"{remaining:.3f}"})
            messages: list[Message] = data["messages"]
            for message in messages:
                if predicate is None or predicate(message):
                    return message
                cursor = max(cursor, message["message_id"])

    async def callback_answers(self, chat_id: int) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", (await self.request("GET", f"/sandbox/chats/{chat_id}/callback_answers"))["answers"])

    async def actions(self, chat_id: int) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", (await self.request("GET", f"/sandbox/chats/{chat_id}/actions"))["actions"])

    async def file_bytes(self, file_id: str) -> bytes:
        async with self.session.get(f"{self.base_url}/sandbox/files/{file_id}") as resp:
            if resp.status >= 400:
                raise SandboxError(resp.status, await resp.text())
            return await resp.read()

    # -- knobs ---------------------------------------------------------------
    async def faults(self, kind: str, *, count: int | None = None, probability: float | None = None,
                     methods: Iterable[str] | None = None, retry_after: int = 1, delay: float = 0.0,
                     after: bool = False, seed: int | None = None) -> dict[str, Any]:
        """Add a rule: kind is "429", "500", "502" or "delay"; ``after`` executes the call first."""
        body = {"kind": kind, "count": count, "probability": probability,
                "methods": list(methods) if methods is not None else None,
                "retry_after": retry_after, "delay": delay, "after": after, "seed": seed}
        return cast("dict[str, Any]", (await self.request("POST", "/sandbox/faults", {k: v for k, v in body.items() if v is not None}))["rule"])

    async def clear_faults(self) -> None:
        await self.request("DELETE", "/sandbox/faults")

    async def limits(self, **config: Any) -> dict[str, Any]:
        """Change limits (enabled, strict, per_chat_per_sec, global_per_sec, group_per_min, burst)."""
        if not config:
            return cast("dict[str, Any]", (await self.request("GET", "/sandbox/limits"))["limits"])
        return cast("dict[str, Any]", (await self.request("POST", "/sandbox/limits", config))["limits"])

    async def stats(self) -> dict[str, Any]:
        return await self.request("GET", "/sandbox/stats")

    async def reset(self) -> None:
        await self.request("POST", "/sandbox/reset")


__all__ = ["SandboxClient", "SandboxError", "SandboxServer", "start_sandbox"]

"""A real SMTP server (aiosmtpd on loopback, in its own thread) that keeps what it receives and
answers as the test tells it: a scripted 4xx/5xx, a refused sender, a slow DATA, a login."""
from __future__ import annotations

import asyncio
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    content: bytes
    peer: tuple[str, int]  # the client's address: one per SMTP connection

    def message(self) -> EmailMessage:
        return message_from_bytes(self.content, policy=policy.default)  # type: ignore[return-value]


class Mailbox:
    """The aiosmtpd handler. Its methods run in the server's thread."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.data_replies: deque[str] = deque()  # answers to the next DATA commands, then 250
        self.rcpt_replies: dict[str, str] = {}  # address → a refusal for RCPT TO
        self.sender_reply: str | None = None  # a refusal for MAIL FROM
        self.release = threading.Event()  # cleared: DATA waits (a slow server)
        self.release.set()
        self.data_started = threading.Event()
        self.delivered = threading.Event()

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if self.sender_reply:
            return self.sender_reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.data_started.set()
        while not self.release.is_set():
            await asyncio.sleep(0.01)
        if self.data_replies:
            return self.data_replies.popleft()
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content,
                                      tuple(session.peer[:2])))
        self.delivered.set()
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(self, *, login: tuple[str, str] | None = None) -> None:
        self.mailbox = Mailbox()
        self.port = free_port()
        self.login = login
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        user = f"{quote(self.login[0], safe='')}:{quote(self.login[1], safe='')}@" if self.login else ""
        return f"smtp://{user}127.0.0.1:{self.port}"

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (isinstance(data, LoginPassword) and self.login is not None
              and (data.login.decode(), data.password.decode()) == self.login)
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    def start(self) -> None:
        extra: dict[str, Any] = {}
        if self.login:
            extra = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, ready_timeout=10,
                                      **extra)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self.mailbox.release.set()
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()

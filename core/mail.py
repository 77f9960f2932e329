"""E-mail: the MCU_SMTP_URL setting, the letter itself, and one SMTP connection.

Officials without Telegram get their cards by e-mail; citizens who gave an e-mail for a 59-ФЗ
answer get the answer so. Every letter is an outbox row (core.outbox.enqueue_email) drained by
scheduler/mail_sender.py; only `mcu mail test` sends directly. No attachments: a card carries
a link to the admin instead (`item_url`).
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import quote, unquote, urlsplit

import aiosmtplib

# scheme → (how the connection is secured, the usual port)
_SCHEMES = {"smtp": ("plain", 25), "smtps": ("tls", 465), "smtp+starttls": ("starttls", 587)}
_URL_FORM = ("expected smtp://[user:password@]host[:port], smtps://… (implicit TLS) "
             "or smtp+starttls://… (STARTTLS)")
_LOCAL = r"[^@\s<>,;:\"()\[\]\\]+"
_LABEL = r"[^@\s<>,;:\"()\[\]\\.]+"
_ADDRESS_RE = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")
# Long enough for a slow but working server, short enough that a hung one is given up on.
SMTP_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """Where mail goes, as read from MCU_SMTP_URL."""

    security: str  # plain, tls (smtps://), starttls (smtp+starttls://)
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return next(s for s, (security, _port) in _SCHEMES.items() if security == self.security)

    def describe(self) -> str:
        """The URL without the password: safe for logs and `mcu status`."""
        user = f"{quote(self.username, safe='')}@" if self.username else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read `smtp://[user:pass@]host[:port]` (also smtps://, smtp+starttls://).

    Raises ValueError with a one-line reason that never repeats the URL (it may hold a password).
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(_URL_FORM)
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number from 1 to 65535") from None
    if port == 0:
        raise ValueError("the port must be a number from 1 to 65535")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError("nothing may follow host:port; " + _URL_FORM)
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    if bool(username) != bool(password):
        raise ValueError("give both user and password (smtp://user:password@host; %40 for @ in them) or neither")
    security, default_port = _SCHEMES[scheme]
    return SmtpTarget(security, parts.hostname, port or default_port, username, password)


_PUBLIC_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.{_LABEL[:-1]}{{2,}}")


def is_email_address(text: str, *, public: bool = False) -> bool:
    """A plausible single address `local@domain`: no spaces, brackets, commas or line breaks.

    `public`: an address people type (a citizen's, an organisation's) must also have a domain
    with a zone of two letters or more (`root@localhost` is fine for the server, not for them).
    """
    text = text.strip()
    if len(text) > 320 or _ADDRESS_RE.fullmatch(text) is None:
        return False
    return not public or _PUBLIC_DOMAIN.fullmatch(text.rpartition("@")[2]) is not None


def bare_address(from_header: str) -> str:
    """`МЦУ <mcu@example.ru>` → `mcu@example.ru` (the SMTP envelope sender)."""
    return parseaddr(from_header)[1] or from_header.strip()


def item_url(admin_base_url: str, item_id: int) -> str:
    """The link an e-mailed card carries instead of attachments."""
    return f"{admin_base_url.rstrip('/')}/items/{item_id}"


def build_message(
    sender: str,
    to: str,
    subject: str,
    text: str,
    *,
    html: str | None = None,
    now: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """A UTF-8 letter: plain text, optionally with an HTML alternative.

    Raises ValueError for an address that cannot be a recipient (nothing to retry then).
    """
    if not is_email_address(to):
        raise ValueError("not an e-mail address")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = Address(addr_spec=to.strip())
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    domain = bare_address(sender).rpartition("@")[2] or "localhost"
    message["Message-ID"] = message_id or make_msgid(domain=domain)
    # RFC 3834: vacation auto-replies must not answer a notification.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def outbox_message_id(row_id: int, created_at: datetime, sender: str) -> str:
    """The same Message-ID on every attempt of a row, so a letter sent twice (the server took it
    but the answer was lost) is one letter in the reader's mail client."""
    domain = bare_address(sender).rpartition("@")[2] or "localhost"
    return f"<mcu.outbox.{row_id}.{int(created_at.timestamp())}@{domain}>"


async def connect(target: SmtpTarget, *, timeout: float = SMTP_TIMEOUT) -> aiosmtplib.SMTP:
    """An open, greeted (and, if configured, secured and logged-in) SMTP connection."""
    smtp = aiosmtplib.SMTP(
        hostname=target.host, port=target.port, username=target.username, password=target.password,
        use_tls=target.security == "tls",
        # plain smtp:// means plain: opportunistic STARTTLS would fail on a relay with a local certificate.
        start_tls=target.security == "starttls",
        timeout=timeout,
    )
    await smtp.connect()
    return smtp


async def close_quietly(smtp: aiosmtplib.SMTP) -> None:
    """QUIT if the server still listens; a dead connection is simply dropped."""
    try:
        if smtp.is_connected:
            await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def describe_error(exc: BaseException) -> str:
    """One line for the operator and `outbox.last_error`: the SMTP reply or the network failure."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        reply = " ".join(exc.message.split())
        return f"{exc.code} {reply}".strip()
    if isinstance(exc, TimeoutError):
        return "timeout: the mail server did not answer in time"
    if isinstance(exc, aiosmtplib.SMTPConnectError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__  # aiosmtplib wraps the socket error; the socket error says it plainly
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens at the mail server's address"
    if isinstance(exc, socket.gaierror):
        return f"unknown mail server host: {exc.strerror}"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot connect: {exc.strerror}"
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def reply_code(exc: BaseException) -> int | None:
    """The SMTP reply code behind an error, if the server gave one."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        return exc.recipients[0].code
    return exc.code if isinstance(exc, aiosmtplib.SMTPResponseException) else None

"""Who is asking, and may they: the session cookie, staff sign-in state, CSRF, roles, flashes.

The cookie (aiohttp_session, Fernet-encrypted, HttpOnly, SameSite=Lax, Secure over HTTPS) carries two
random values: `sid`, whose SHA-256 is a `StaffSession` row (so logout and a password change can revoke
it), and `csrf`, the token every form and script must send back. Every page needs a signed-in staff
member except the few in PUBLIC_PATHS; `requires(...)` narrows a view to roles.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import SESSION_KEY, Session, get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from cryptography.fernet import Fernet

from admin.keys import CLOCK, SANDBOX_URL, SESSIONMAKER, SETTINGS
from core.settings import Settings
from core.staff import REPORT_OWN_ORGANISATION_ROLES, REPORT_ROLES
from core.staff_auth import N_, session_staff
from db.models import Role, Staff

COOKIE = "mcu_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Open without signing in. Everything else redirects an anonymous visitor to /login.
PUBLIC_PATHS = frozenset({"/login", "/logout", "/healthz", "/favicon.ico"})
PUBLIC_PREFIXES = ("/static/", "/invite/")
# Served without touching the cookie at all (no session, no CSRF token, no database).
BARE_PREFIXES = ("/static/", "/healthz")

# Who manages the centre's set-up: staff accounts, the audit log, settings, directories.
MANAGER_ROLES = (Role.head, Role.curator)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The menu: (href, label, roles that see it; None = every staff member). Role.admin sees everything.
NAV: tuple[tuple[str, str, frozenset[Role] | None], ...] = (
    ("/", N_("Сводка"), None),
    ("/items", N_("Обращения"), None),
    # As the reports page itself allows: a recipient sees its own organisation's figures there.
    ("/reports", N_("Отчёты"), REPORT_ROLES | REPORT_OWN_ORGANISATION_ROLES),
    ("/directories", N_("Справочники"), frozenset({*MANAGER_ROLES, Role.analyst})),
    ("/settings", N_("Настройки"), frozenset(MANAGER_ROLES)),
    ("/staff", N_("Сотрудники"), frozenset(MANAGER_ROLES)),
    ("/audit", N_("Журнал действий"), frozenset(MANAGER_ROLES)),
)


# --- the cookie -----------------------------------------------------------------------------------------


def load_secret(settings: Settings) -> bytes:
    """The Fernet key of the cookie: derived from MCU_ADMIN_SECRET, else generated once and kept in
    DATA_DIR/admin_secret.key (mode 0600), so sessions survive a restart."""
    if settings.admin_secret is not None:
        digest = hashlib.sha256(settings.admin_secret.get_secret_value().encode()).digest()
        return base64.urlsafe_b64encode(digest)
    path = settings.data_dir / "admin_secret.key"
    if path.exists():
        key = path.read_bytes().strip()
        Fernet(key)  # a damaged file fails here, loudly, rather than logging everybody out forever
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: two processes starting at once cannot both write (the loser reads the winner's key).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_secret(settings)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def is_https(request: web.Request) -> bool:
    # Behind a reverse proxy the TLS ends at the proxy, which says so in X-Forwarded-Proto.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() == "https"


class CookieStorage(EncryptedCookieStorage):
    """The encrypted cookie, marked Secure whenever the request came over HTTPS."""

    def __init__(self, key: bytes) -> None:
        # No max_age: a browser-session cookie; how long a sign-in lasts is the StaffSession row's business.
        super().__init__(Fernet(key), cookie_name=COOKIE, httponly=True, samesite="Lax")

    async def save_session(self, request: web.Request, response: web.StreamResponse, session: Session) -> None:
        if session.empty:
            response.del_cookie(self.cookie_name, path="/")
            return
        data = self._encoder(self._get_session_data(session)).encode()
        response.set_cookie(self.cookie_name, self._fernet.encrypt(data).decode(), path="/",
                            httponly=True, samesite="Lax", secure=is_https(request))


def client_ip(request: web.Request) -> str | None:
    """The visitor's address. X-Forwarded-For is believed only from a proxy on this machine (the
    last entry is the one that proxy added); from anywhere else it could be forged."""
    remote = request.remote
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded and remote in ("127.0.0.1", "::1"):
        return forwarded.split(",")[-1].strip()[:64] or remote
    return remote


# --- sign-in state ----------------------------------------------------------------------------------------


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def login_redirect(request: web.Request) -> web.HTTPException:
    if request.path.startswith("/sandbox/api/"):
        return web.HTTPUnauthorized(text='{"ok": false, "description": "sign in first"}',
                                    content_type="application/json")
    target = request.path_qs if request.method == "GET" else request.path
    return web.HTTPFound(f"/login?next={quote(target, safe='')}")


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(BARE_PREFIXES):
        return await handler(request)
    cookie = await get_session(request)
    token = cookie.get("sid")
    if isinstance(token, str):
        # The database session is closed before the view runs: on SQLite the pool has one connection.
        async with request.app[SESSIONMAKER]() as db, db.begin():
            staff = await session_staff(db, token, now=request.app[CLOCK]())
        if staff is None:
            del cookie["sid"]  # revoked or expired: the visitor is anonymous now (the CSRF token stays)
        else:
            request["staff"] = staff
    if "staff" not in request and not is_public(request.path):
        raise login_redirect(request)
    return await handler(request)


def current_staff(request: web.Request) -> Staff:
    """The signed-in staff member; anonymous visitors are sent to the login page."""
    staff = request.get("staff")
    if staff is None:
        raise login_redirect(request)
    return staff  # type: ignore[no-any-return]


def has_role(staff: Staff, roles: frozenset[Role] | tuple[Role, ...] | None) -> bool:
    """No roles asked: any staff member. Role.admin passes every check."""
    held = staff.role_set
    return not roles or Role.admin in held or bool(held & set(roles))


def forbidden(message: str | None = None) -> web.HTTPForbidden:
    """A 403 the error middleware renders as 403.html, with `message` (already translated) if given."""
    exc = web.HTTPForbidden()
    exc.mcu_message = message  # type: ignore[attr-defined]
    return exc


def requires(*roles: Role) -> Callable[[Handler], Handler]:
    """Decorate a view: anonymous → /login?next=…; signed in without any of `roles` → 403 page.

    Put it outermost (above `@aiohttp_jinja2.template`).
    """
    wanted = tuple(roles)

    def decorate(view: Handler) -> Handler:
        @functools.wraps(view)
        async def guarded(request: web.Request) -> web.StreamResponse:
            staff = current_staff(request)
            if not has_role(staff, wanted):
                raise forbidden()
            return await view(request)

        guarded.required_roles = wanted  # type: ignore[attr-defined]
        return guarded

    return decorate


# --- CSRF --------------------------------------------------------------------------------------------------


async def csrf_token(request: web.Request) -> str:
    """This visitor's CSRF token (anonymous visitors get one too, for the login form)."""
    cookie = await get_session(request)
    token = cookie.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        cookie["csrf"] = token
    return token


@web.middleware
async def csrf_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in UNSAFE_METHODS or request.path.startswith(BARE_PREFIXES):
        return await handler(request)
    cookie = await get_session(request)
    expected = cookie.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        # request.post() is cached: the view reads the same form again for free.
        form = await request.post()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    if not isinstance(expected, str) or not sent or not secrets.compare_digest(sent, expected):
        raise forbidden(_gettext(request)(
            "Форма устарела или отправлена не со страницы админки (не совпал проверочный код). "
            "Обновите страницу и повторите действие."))
    return await handler(request)


# --- flashes ------------------------------------------------------------------------------------------------


class _Done:
    """What `flash` returns: awaiting it is allowed and does nothing (the work is already done)."""

    def __await__(self):  # type: ignore[no-untyped-def]
        return iter(())


def _cookie(request: web.Request) -> Session:
    # Loaded by auth_middleware for every path that is not BARE_PREFIXES.
    cookie = request.get(SESSION_KEY)
    if cookie is None:
        raise RuntimeError("the session cookie is not loaded for this path")
    return cookie  # type: ignore[no-any-return]


def flash(request: web.Request, text: str, kind: str = "ok") -> _Done:
    """A one-time message shown on the next page (after the POST → redirect). `text` is already
    translated. Call it plainly; `await flash(...)` works too."""
    cookie = _cookie(request)
    cookie["flash"] = [*cookie.get("flash", []), [kind if kind in ("ok", "error") else "ok", text]]
    return _Done()


def pop_flashes(request: web.Request) -> list[tuple[str, str]]:
    """Called by the template when it shows them, so a request that renders no page keeps them."""
    cookie = _cookie(request)
    if "flash" not in cookie:
        return []
    return [(kind, text) for kind, text in cookie.pop("flash")]


# --- pages -------------------------------------------------------------------------------------------------


def _gettext(request: web.Request) -> Callable[[str], str]:
    from admin.i18n import page_gettext

    return page_gettext(request)


async def context_processor(request: web.Request) -> dict[str, Any]:
    """What every template gets: staff, roles, csrf_token, flashes, nav (the menu for these roles)."""
    staff: Staff | None = request.get("staff")
    roles = {r.value for r in staff.role_set} if staff is not None else set()
    nav: list[tuple[str, str]] = []
    if staff is not None:
        nav = [(href, label) for href, label, who in NAV if has_role(staff, who)]
        if request.app[SANDBOX_URL]:
            nav.append(("/sandbox", N_("Песочница")))
    return {
        "staff": staff,
        "roles": roles,
        "csrf_token": await csrf_token(request),
        "flashes": functools.partial(pop_flashes, request),
        "nav": nav,
        "path": request.path,
        # The language links reload this page: a GET one, or the front page after a POST.
        "lang_path": request.path if request.method == "GET" else "/",
        "centre_name": _centre_name(request),
    }


def _centre_name(request: web.Request) -> str:
    return _gettext(request)(N_("Муниципальный центр управления"))


ERROR_PAGES = {403: "403.html", 404: "404.html", 405: "404.html"}


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """403 and 404 as pages of the admin (with the menu), not aiohttp's plain text."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        template = ERROR_PAGES.get(exc.status)
        if template is None or request.path.startswith(("/static/", "/sandbox/api/")):
            raise
        if aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request:
            # Refused before the context processors ran (by the CSRF check): fill the context now.
            request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = {}
            for processor in request.config_dict[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY]:
                request[aiohttp_jinja2.REQUEST_CONTEXT_KEY].update(await processor(request))
        response = aiohttp_jinja2.render_template(
            template, request, {"message": getattr(exc, "mcu_message", None)}, status=exc.status
        )
        return response


def setup(app: web.Application) -> None:
    """The middlewares in order: cookie → error pages → sign-in → CSRF → the view."""
    app.middlewares.append(session_middleware(CookieStorage(load_secret(app[SETTINGS]))))
    app.middlewares.append(error_pages)
    app.middlewares.append(auth_middleware)
    app.middlewares.append(csrf_middleware)

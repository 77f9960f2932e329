"""Signing in and out, and the one-time invite link that sets a password."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session, new_session
from sqlalchemy import select

from admin.auth import client_ip, flash
from admin.i18n import page_gettext
from admin.keys import CLOCK, SESSIONMAKER, SETTINGS, THROTTLE
from core.staff_auth import (
    LOCK_AFTER,
    N_,
    AuthError,
    LoginOutcome,
    check_login,
    consume_invite,
    create_session,
    find_invite,
    revoke_session,
)
from db.models import Staff

STATUS = {LoginOutcome.bad: 401, LoginOutcome.locked: 423, LoginOutcome.throttled: 429}


def safe_next(target: str | None) -> str:
    """Only a path of this site: `next=https://evil.example` or `//evil.example` lands on the dashboard."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(ord(c) < 32 or c == "\\" for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return "/"
    return target


async def _previous_sid(request: web.Request) -> str | None:
    """The session this browser had (signing in again, perhaps as somebody else): it ends at sign-in."""
    token = (await get_session(request)).get("sid")
    return token if isinstance(token, str) else None


async def _sign_in(request: web.Request, token: str) -> None:
    """A fresh cookie on every sign-in (new CSRF token too): a cookie planted before login opens nothing."""
    cookie = await new_session(request)
    cookie["sid"] = token
    cookie["csrf"] = secrets.token_urlsafe(32)


async def login_page(request: web.Request) -> web.StreamResponse:
    target = safe_next(request.query.get("next"))
    if request.get("staff") is not None:
        raise web.HTTPFound(target)
    async with request.app[SESSIONMAKER]() as session:
        # A fresh install: nobody can sign in yet, so the page says how to create the first account.
        first_run = await session.scalar(select(Staff.id).where(Staff.password_hash.is_not(None)).limit(1)) is None
    return aiohttp_jinja2.render_template(
        "login.html", request, {"next": target, "error": None, "login": "", "first_run": first_run}
    )


async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    login = str(form.get("login", ""))[:128]
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "")))
    settings = request.app[SETTINGS]
    now = request.app[CLOCK]()
    ip = client_ip(request)
    previous = await _previous_sid(request)
    async with request.app[SESSIONMAKER]() as session, session.begin():
        result = await check_login(session, login, password, now=now, ip=ip, throttle=request.app[THROTTLE])
        token = None
        if result.outcome is LoginOutcome.ok and result.staff is not None:
            if previous:
                await revoke_session(session, previous, now=now, ip=ip)
            token = await create_session(session, result.staff, now=now, ip=ip,
                                         user_agent=request.headers.get("User-Agent"))
    if token is not None:
        await _sign_in(request, token)
        raise web.HTTPFound(target)
    _ = page_gettext(request)
    if result.outcome is LoginOutcome.locked and result.locked_until is not None:
        until = result.locked_until.astimezone(settings.tz).strftime("%d.%m.%Y %H:%M")
        error = _("Вход временно заблокирован: {n} неудачных попыток подряд. Попробуйте после {until} "
                  "(время {tz}).").format(n=LOCK_AFTER, until=until, tz=settings.timezone)
    elif result.outcome is LoginOutcome.throttled:
        error = _("Слишком много неудачных попыток входа с этого адреса. Попробуйте через несколько минут.")
    else:
        error = _("Неверный логин или пароль.")
    return aiohttp_jinja2.render_template(
        "login.html", request, {"next": target, "error": error, "login": login},
        status=STATUS.get(result.outcome, 401),
    )


async def logout(request: web.Request) -> web.StreamResponse:
    cookie = await get_session(request)
    token = cookie.get("sid")
    if isinstance(token, str):
        async with request.app[SESSIONMAKER]() as session, session.begin():
            await revoke_session(session, token, now=request.app[CLOCK](), ip=client_ip(request))
    cookie.invalidate()
    flash(request, page_gettext(request)(N_("Вы вышли из админки.")))
    raise web.HTTPFound("/login")


async def _invite_page(request: web.Request, staff: Staff | None, error: str | None, status: int = 200
                       ) -> web.Response:
    return aiohttp_jinja2.render_template(
        "invite.html", request,
        {"invitee": staff, "error": error, "token": request.match_info["token"]}, status=status,
    )


def _dead_link(request: web.Request) -> str:
    return page_gettext(request)(N_("Ссылка недействительна: она уже использована или устарела. "
                                 "Попросите новую командой /web в боте."))


async def invite_page(request: web.Request) -> web.StreamResponse:
    async with request.app[SESSIONMAKER]() as session:
        found = await find_invite(session, request.match_info["token"], now=request.app[CLOCK]())
    if found is None:
        return await _invite_page(request, None, _dead_link(request), status=410)
    return await _invite_page(request, found[1], None)


async def invite_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    password = str(form.get("password", ""))
    token = request.match_info["token"]
    _ = page_gettext(request)
    now = request.app[CLOCK]()
    ip = client_ip(request)
    async with request.app[SESSIONMAKER]() as session:
        found = await find_invite(session, token, now=now)
    if found is None:
        return await _invite_page(request, None, _dead_link(request), status=410)
    if password != str(form.get("password2", "")):
        return await _invite_page(request, found[1], _("Пароли не совпадают."), status=400)
    previous = await _previous_sid(request)
    try:
        async with request.app[SESSIONMAKER]() as session, session.begin():
            staff = await consume_invite(session, token, password, now=now, ip=ip)
            if previous:
                await revoke_session(session, previous, now=now, ip=ip)
            session_token = await create_session(session, staff, now=now, ip=ip,
                                                 user_agent=request.headers.get("User-Agent"))
    except AuthError as exc:
        return await _invite_page(request, found[1], exc.localized(_), status=400)
    await _sign_in(request, session_token)
    flash(request, _("Пароль задан. Ваш логин для входа: {login}").format(login=staff.login))
    raise web.HTTPFound("/")


def setup(app: web.Application) -> None:
    app.router.add_get("/login", login_page, name="login")
    app.router.add_post("/login", login_submit)
    app.router.add_post("/logout", logout, name="logout")
    app.router.add_get("/invite/{token}", invite_page, name="invite")
    app.router.add_post("/invite/{token}", invite_submit)

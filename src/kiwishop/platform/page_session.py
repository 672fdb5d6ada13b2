"""Who is looking at a service's pages, and whether a form post may act: the login session and CSRF guard every
server-rendered page shares (order's shop, the ops console).

The session is the identity service's own access token in the ``kiwi_session`` cookie (HttpOnly, SameSite=Lax,
set by ``POST /login``, ``platform.page_login``). Each request verifies it with the verifier the JSON APIs use
(``platform.auth.verifier_of``), so the pages and the APIs accept exactly the same tokens; a cookie that does not
verify (expired, tampered, signed by a retired key) is no login at all. Lax, not Strict: the PSP's redirect to the
shop's ``/success`` is a top-level GET from another site and must arrive logged in.

Every POST form carries ``csrf``, which must equal the ``kiwi_csrf`` cookie (a random value, SameSite=Strict;
double-submit): another site can make a browser send a form, but it can neither read nor set this cookie. A
present ``Origin`` must be the page's own as well. A page that finds no ``kiwi_csrf`` cookie sets a new one — also
after a cross-site arrival, which does not send the Strict cookie: a form in another tab left open since then is
refused once (a 403 page that says to reload) rather than ever accepted from elsewhere.

A service's pages make their ``PageVisit`` with ``visit_of(request, secure=...)`` (``secure``: its cookies carry
Secure, where it is served over HTTPS), and may render their templates with ``PageTemplates``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kiwishop.platform.auth import verifier_of
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import InvalidToken, Principal, Role

SESSION_COOKIE = "kiwi_session"
CSRF_COOKIE = "kiwi_csrf"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 16_384
MAX_TOKEN_CHARS = 4_096
MAX_NEXT_CHARS = 2_048
CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,128}")  # what new_csrf makes
KEYS_DOWN = "로그인을 확인할 수 없습니다(인증 서비스의 키를 가져오지 못했습니다). 잠시 후 다시 시도해 주세요."


class PageRefusal(Exception):
    """A page that cannot be served at all (no key to verify the login with): ``pages.refusal_page`` renders it."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class PageCaller:
    """A verified login: the principal, and its token (forwarded as is to the services the page reads)."""

    principal: Principal
    token: str

    @property
    def member_no(self) -> int | None:
        return self.principal.member_no if self.principal.role is Role.MEMBER else None

    @property
    def seller_no(self) -> int | None:
        return self.principal.seller_no if self.principal.role is Role.SELLER else None

    @property
    def label(self) -> str:
        if self.member_no is not None:
            return f"회원 {self.member_no}"
        if self.seller_no is not None:
            return f"판매자 {self.seller_no}"
        return "운영자"


@dataclass(frozen=True)
class PageVisit:
    """One page request: who is logged in, the CSRF value its forms carry, and where a login comes back to."""

    caller: PageCaller | None
    csrf: str
    csrf_is_new: bool  # no (well-formed) kiwi_csrf cookie came: the response sets this one
    secure: bool  # cookies get Secure (settings.cookie_secure)
    here: str  # this request's path and query

    def login_url(self, back_to: str | None = None) -> str:
        return login_url(back_to or self.here)

    def keep(self, response: Response) -> Response:
        """The response, with the kiwi_csrf cookie when this visit made a new one."""
        if self.csrf_is_new:
            set_csrf_cookie(response, self.csrf, self.secure)
        return response


def login_url(back_to: str) -> str:
    return "/login?next=" + quote(local_path(back_to), safe="/")


def local_path(raw: str | None) -> str:
    """``raw`` when it is a path of this site ("/…", but not "//…" or "/\\…", which a browser reads as another
    host), printable ASCII without backslashes (a browser drops tabs and newlines: "/\\t/evil" is "//evil");
    "/" for anything else."""
    if not raw or len(raw) > MAX_NEXT_CHARS or not raw.startswith("/") or raw.startswith(("//", "/\\")):
        return "/"
    if any(not " " < c < "\x7f" or c == "\\" for c in raw):
        return "/"
    return raw


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def _well_formed(value: str | None) -> bool:
    return value is not None and CSRF_SHAPE.fullmatch(value) is not None


def set_csrf_cookie(response: Response, value: str, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, value, path="/", httponly=True, samesite="strict", secure=secure)


def set_session_cookie(response: Response, token: str, max_age: int, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=max_age, path="/", httponly=True, samesite="lax", secure=secure)


def drop_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)


async def caller_of(request: Request) -> PageCaller | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > MAX_TOKEN_CHARS:
        return None
    try:
        principal = await verifier_of(request).verify(token)
    except InvalidToken:
        return None  # expired or not ours: logged out
    except AppError as exc:  # identity's keys cannot be had: nobody can be told apart from anybody
        raise PageRefusal(503, "잠시 후 다시 시도해 주세요", KEYS_DOWN) from exc
    return PageCaller(principal, token)


async def visit_of(request: Request, *, secure: bool) -> PageVisit:
    """This request's visit: who is logged in, and the CSRF value its forms carry (the cookie's, else a new one)."""
    cookie = request.cookies.get(CSRF_COOKIE)
    csrf = cookie if cookie is not None and _well_formed(cookie) else None
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return PageVisit(
        caller=await caller_of(request), csrf=csrf or new_csrf(), csrf_is_new=csrf is None, secure=secure, here=here
    )


async def read_form(request: Request) -> dict[str, list[str]] | None:
    """The urlencoded form, or None for one too large or not UTF-8."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return None
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None


def field(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def own_origins(request: Request, secure: bool) -> set[str]:
    """The page's own origin, as a browser names it in ``Origin``: this request's scheme and Host, and https when
    the shop is served over HTTPS by a proxy in front (settings.cookie_secure)."""
    host = request.headers.get("host", "")
    return {f"{request.url.scheme}://{host}", *([f"https://{host}"] if secure else [])}


def form_is_ours(request: Request, visit: PageVisit, form: dict[str, list[str]] | None) -> bool:
    """The form came from one of our pages in this browser: its ``csrf`` equals the kiwi_csrf cookie and a present
    ``Origin`` is the page's own."""
    cookie, sent = request.cookies.get(CSRF_COOKIE), field(form, CSRF_FIELD) if form is not None else ""
    if cookie is None or not _well_formed(cookie) or not sent:
        return False
    if not hmac.compare_digest(sent.encode("utf-8"), cookie.encode("utf-8")):
        return False
    origin = request.headers.get("origin")
    return origin is None or origin in own_origins(request, visit.secure)


SHARED_TEMPLATES = Path(__file__).parent / "templates"  # what every service's pages may include (the login form)


class PageTemplates:
    """A service's Jinja templates (autoescaped), each rendered for one visit with who is logged in (``caller``),
    the CSRF value of its forms (``csrf``) and the way to log in and come back (``login_link``)."""

    def __init__(self, folder: Path) -> None:
        self._env = Environment(
            loader=FileSystemLoader([folder, SHARED_TEMPLATES]), autoescape=select_autoescape(["html"])
        )

    def render(self, visit: PageVisit | None, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """The page; never stored by a cache: the pages are one browser's own."""
        session = {"caller": visit.caller, "csrf": visit.csrf, "login_link": visit.login_url()} if visit else {}
        response = HTMLResponse(
            self._env.get_template(name).render(**session, **context), status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip
        if visit is not None:
            visit.keep(response)
        return response

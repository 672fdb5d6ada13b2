"""The pages' login, for every service with pages (order's shop, the ops console): ``GET /login`` (the form, with
where to go back to in ``next``), ``POST /login`` and ``POST /logout``.

``POST /login`` hands the login id and password to the identity service (``POST {identity_url}/api/auth/token``,
``IdentityLogin``) and keeps the token it answers in the ``kiwi_session`` cookie for as long as the token lives
(``expiresIn``), then goes back to ``next`` — a path of this site only: anything else (``//evil.example``,
``https://…``) goes to the site's front page instead. The password never stays here: not in a cookie, not in a
log. A wrong login is the form again (401); identity down is a 503 page. ``POST /logout`` deletes the cookie (the
token itself lives on until it expires: identity has no revocation). Both forms carry the CSRF value like every
other (``page_session``).

A service builds the routes with ``login_router(...)``, giving its own visit dependency, its page renderer (its
templates ``login.html`` and ``error.html``) and its page for a form that did not come from here; it puts an
``IdentityLogin`` on ``app.state.identity_login``.

No ``from __future__ import annotations`` here: the routes are made inside ``login_router`` and their parameters'
annotations name its local visit dependency, which FastAPI can only resolve from a live annotation.
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.platform import jsonutil
from kiwishop.platform.deps import app_state
from kiwishop.platform.httpclient import HttpClient, HttpError
from kiwishop.platform.page_session import (
    PageVisit,
    drop_session_cookie,
    field,
    form_is_ours,
    local_path,
    read_form,
    set_session_cookie,
)

log = logging.getLogger("kiwishop.platform.page_login")
WRONG_LOGIN = "아이디 또는 비밀번호가 올바르지 않습니다."
MISSING = "아이디와 비밀번호를 입력해 주세요."
IDENTITY_DOWN = "로그인 서비스에 연결할 수 없습니다. 잠시 후 다시 시도해 주세요."


@dataclass(frozen=True)
class Session:
    token: str
    expires_in: int  # seconds


class LoginUnavailable(Exception):
    """Identity could not be asked, or answered something that is neither a token nor a refusal."""


class IdentityLogin:
    """Identity's token endpoint, over one shared HTTP client (built and closed by ``create_app``)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    async def log_in(self, login_id: str, password: str) -> Session | None:
        """The session for these credentials; None when identity refuses them (IDN0001, or a field it will not
        take); ``LoginUnavailable`` otherwise."""
        try:
            response = await self._http.post("/api/auth/token", json={"loginId": login_id, "password": password})
        except HttpError as exc:
            raise LoginUnavailable(str(exc)) from exc
        if response.status_code in (400, 401):
            return None
        if response.status_code != 200:
            raise LoginUnavailable(f"identity answered {response.status_code}")
        try:
            body = jsonutil.loads(response.content)
            token, expires_in = body["accessToken"], int(body["expiresIn"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LoginUnavailable(f"identity answered an unexpected shape: {exc}") from exc
        if not isinstance(token, str) or not token or expires_in <= 0:
            raise LoginUnavailable("identity answered no token")
        return Session(token, expires_in)


IdentityLoginDep = Annotated[IdentityLogin, Depends(app_state("identity_login", IdentityLogin))]


class Render(Protocol):
    """A service's page renderer: its template ``name`` for the visit, with ``context``."""

    def __call__(self, visit: PageVisit | None, name: str, status_code: int = 200, **context: Any) -> HTMLResponse: ...


@dataclass(frozen=True)
class LoginPages:
    """What the login routes need of a service's pages."""

    visit: Callable[..., Awaitable[PageVisit]]  # the service's visit dependency
    render: Render
    not_from_here: Callable[[PageVisit], HTMLResponse]  # a form without our CSRF value: 403, nothing done
    login_id_max: int
    password_max: int


def login_router(pages: LoginPages) -> APIRouter:
    """``GET /login``, ``POST /login`` and ``POST /logout`` for one service's pages."""
    router = APIRouter(include_in_schema=False)
    VisitDep = Annotated[PageVisit, Depends(pages.visit)]

    def form_page(visit: PageVisit, next_path: str, status: int = 200, **context: object) -> HTMLResponse:
        return pages.render(visit, "login.html", status, next_path=next_path, hide_login_link=True, **context)

    @router.get("/login", response_class=HTMLResponse)
    async def login_page(request: Request, visit: VisitDep) -> HTMLResponse:
        return form_page(visit, local_path(request.query_params.get("next")))

    @router.post("/login", response_class=HTMLResponse)
    async def log_in(request: Request, visit: VisitDep, identity: IdentityLoginDep) -> Response:
        form = await read_form(request)
        if form is None or not form_is_ours(request, visit, form):
            return pages.not_from_here(visit)
        next_path = local_path(field(form, "next"))
        login_id, password = field(form, "loginId").strip(), field(form, "password")
        if not login_id or not password:
            return form_page(visit, next_path, 400, error=MISSING, login_id=login_id)
        if len(login_id) > pages.login_id_max or len(password) > pages.password_max:
            return form_page(visit, next_path, 401, error=WRONG_LOGIN, login_id=login_id[: pages.login_id_max])
        try:
            session = await identity.log_in(login_id, password)
        except LoginUnavailable as exc:
            log.warning("login page: identity unavailable: %s", exc)
            return pages.render(visit, "error.html", 503, title="로그인", message=IDENTITY_DOWN)
        if session is None:
            return form_page(visit, next_path, 401, error=WRONG_LOGIN, login_id=login_id)
        response = RedirectResponse(next_path, status_code=303)
        set_session_cookie(response, session.token, session.expires_in, visit.secure)
        visit.keep(response)
        return response

    @router.post("/logout", response_class=HTMLResponse)
    async def log_out(request: Request, visit: VisitDep) -> Response:
        form = await read_form(request)
        if form is None or not form_is_ours(request, visit, form):
            return pages.not_from_here(visit)
        response = RedirectResponse("/", status_code=303)
        drop_session_cookie(response, visit.secure)
        return response

    return router

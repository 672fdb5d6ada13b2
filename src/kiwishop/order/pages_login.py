"""The pages' login: ``GET /login`` (the form, with where to go back to in ``next``), ``POST /login`` and
``POST /logout``.

``POST /login`` hands the login id and password to the identity service (``POST {identity_url}/api/auth/token``)
and keeps the token it answers in the ``kiwi_session`` cookie for as long as the token lives (``expiresIn``), then
goes back to ``next`` — a path of this site only: anything else (``//evil.example``, ``https://…``) goes to the
shop instead. The password never stays here: not in a cookie, not in a log. A wrong login is the form again (401);
identity down is a 503 page. ``POST /logout`` deletes the cookie (the token itself lives on until it expires:
identity has no revocation). Both forms carry the CSRF value like every other (``page_session``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.contracts.identity import LOGIN_ID_MAX_LENGTH, PASSWORD_MAX_LENGTH
from kiwishop.order.page_session import (
    PageVisit,
    PageVisitDep,
    drop_session_cookie,
    field,
    form_is_ours,
    local_path,
    read_form,
    set_session_cookie,
)
from kiwishop.order.pages import not_from_here, render
from kiwishop.platform import jsonutil
from kiwishop.platform.deps import app_state
from kiwishop.platform.httpclient import HttpClient, HttpError

log = logging.getLogger("kiwishop.order.pages_login")
router = APIRouter(include_in_schema=False)
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


def _form_page(visit: PageVisit, next_path: str, status: int = 200, **context: object) -> HTMLResponse:
    return render(visit, "login.html", status, next_path=next_path, hide_login_link=True, **context)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, visit: PageVisitDep) -> HTMLResponse:
    return _form_page(visit, local_path(request.query_params.get("next")))


@router.post("/login", response_class=HTMLResponse)
async def log_in(request: Request, visit: PageVisitDep, identity: IdentityLoginDep) -> Response:
    form = await read_form(request)
    if form is None or not form_is_ours(request, visit, form):
        return not_from_here(visit)
    next_path = local_path(field(form, "next"))
    login_id, password = field(form, "loginId").strip(), field(form, "password")
    if not login_id or not password:
        return _form_page(visit, next_path, 400, error=MISSING, login_id=login_id)
    if len(login_id) > LOGIN_ID_MAX_LENGTH or len(password) > PASSWORD_MAX_LENGTH:
        return _form_page(visit, next_path, 401, error=WRONG_LOGIN, login_id=login_id[:LOGIN_ID_MAX_LENGTH])
    try:
        session = await identity.log_in(login_id, password)
    except LoginUnavailable as exc:
        log.warning("login page: identity unavailable: %s", exc)
        return render(visit, "error.html", 503, title="로그인", message=IDENTITY_DOWN)
    if session is None:
        return _form_page(visit, next_path, 401, error=WRONG_LOGIN, login_id=login_id)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, session.token, session.expires_in, visit.secure)
    visit.keep(response)
    return response


@router.post("/logout", response_class=HTMLResponse)
async def log_out(request: Request, visit: PageVisitDep) -> Response:
    form = await read_form(request)
    if form is None or not form_is_ours(request, visit, form):
        return not_from_here(visit)
    response = RedirectResponse("/", status_code=303)
    drop_session_cookie(response, visit.secure)
    return response

"""The console's pages (Korean, server-rendered, ops only): 개요 (``/``), a dead-letter topic
(``/dead-letters/{topic}``), 대사 (``/reconcile``) and 감사 기록 (``/audit``); the forms that act are in
``pages_actions.py``, the login is the platform's (``platform.page_login``). Without a login a page sends the
browser to the login and back; a login that is not ops gets a 403 page. A page that follows an action shows that
action's audit row (``?audit=<auditNo>``)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.console.domain import AuditEntry, is_error
from kiwishop.console.queries import overview
from kiwishop.console.services import Console, ConsoleDep
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import Role
from kiwishop.platform.page_session import PageRefusal, PageTemplates, PageVisit, visit_of

router = APIRouter(include_in_schema=False)
templates = PageTemplates(Path(__file__).parent / "templates")
render = templates.render
TOPIC = re.compile(r"[A-Za-z0-9._-]{1,249}")
NOT_OPS = "운영자 계정으로 로그인해야 볼 수 있는 화면입니다."
NOT_FROM_HERE = (
    "이 요청은 이 콘솔의 페이지에서 보낸 것으로 확인되지 않아 처리하지 않았습니다. "
    "페이지를 새로 고친 뒤 다시 시도해 주세요."
)


async def console_visit(request: Request, console: ConsoleDep) -> PageVisit:
    return await visit_of(request, secure=console.settings.cookie_secure)


VisitDep = Annotated[PageVisit, Depends(console_visit)]


def refused(visit: PageVisit) -> Response | None:
    """Not logged in: to the login and back here; logged in but not ops: a 403 page; ops: None."""
    if visit.caller is None:
        return RedirectResponse(visit.login_url(), status_code=303)
    if visit.caller.principal.role is not Role.OPS:
        return render(visit, "error.html", 403, title="권한이 없습니다", message=NOT_OPS)
    return None


def not_from_here(visit: PageVisit) -> HTMLResponse:
    """A form post without our CSRF value, or from another origin: 403, and nothing was done."""
    return render(visit, "error.html", 403, title="요청을 처리하지 않았습니다", message=NOT_FROM_HERE)


def error_page(visit: PageVisit, error: AppError) -> HTMLResponse:
    return render(
        visit, "error.html", error.status, title="처리하지 못했습니다", message=error.code.message("ko", error.params)
    )


async def refusal_page(request: Request, exc: Exception) -> HTMLResponse:
    """A page that could not be served at all (identity's keys cannot be had; registered by ``create_app``)."""
    assert isinstance(exc, PageRefusal)
    return render(None, "error.html", exc.status, title=exc.title, message=exc.message)


async def audit_of(console: Console, request: Request) -> AuditEntry | None:
    """The action a page follows: the audit row named by ``?audit=``."""
    raw = request.query_params.get("audit", "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    return await console.audit.get(int(raw))


def won(amount: Any) -> str:
    value = Decimal(str(amount))
    return f"{int(value):,}원" if value == value.to_integral_value() else f"{value:,.2f}원"


@router.get("/", response_class=HTMLResponse)
async def overview_page(request: Request, visit: VisitDep, console: ConsoleDep) -> Response:
    if (refusal := refused(visit)) is not None:
        return refusal
    assert visit.caller is not None
    data = await overview(console.sources, visit.caller.token)
    done = await audit_of(console, request)
    return render(visit, "overview.html", o=data, done=done, is_error=is_error, won=won)


@router.get("/dead-letters/{topic}", response_class=HTMLResponse)
async def dead_letters_page(request: Request, topic: str, visit: VisitDep, console: ConsoleDep) -> Response:
    if (refusal := refused(visit)) is not None:
        return refusal
    if TOPIC.fullmatch(topic) is None:
        return render(visit, "error.html", 404, title="데드레터", message=f"그런 토픽 이름은 없습니다: {topic[:80]}")
    try:
        data = await console.broker.dead_letters(topic, console.settings.dead_letters_limit)
    except AppError as error:
        return error_page(visit, error)
    done = await audit_of(console, request)
    return render(visit, "dead_letters.html", d=data, done=done)


@router.get("/reconcile", response_class=HTMLResponse)
async def reconcile_page(request: Request, visit: VisitDep, console: ConsoleDep) -> Response:
    if (refusal := refused(visit)) is not None:
        return refusal
    report = await console.reconciles.last()
    done = await audit_of(console, request)
    return render(visit, "reconcile.html", report=report, done=done)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(visit: VisitDep, console: ConsoleDep) -> Response:
    if (refusal := refused(visit)) is not None:
        return refusal
    return render(visit, "audit.html", entries=await console.audit.recent(100))

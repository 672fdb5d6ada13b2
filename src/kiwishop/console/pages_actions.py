"""The console's forms (POST, each with the CSRF value; ops only): 재처리 of a dead-letter topic (every record not
yet redriven, or one), a payment's 지금 다시 확인 and PSP에서 취소 (which the form makes the operator confirm), and
대사 실행. Each runs the audited action (``handlers.Actions``) and goes back to its page, which shows the audit
row; an action refused or failed shows its error page instead (it is in the audit all the same)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiwishop.console.domain import actor_of
from kiwishop.console.handlers import PeerRefusal
from kiwishop.console.pages import TOPIC, VisitDep, error_page, not_from_here, refused, render
from kiwishop.console.ports import Json
from kiwishop.console.schemas import MAX_OFFSET, MAX_PARTITION
from kiwishop.console.services import ConsoleDep
from kiwishop.platform.errors import AppError
from kiwishop.platform.page_session import PageCaller, PageVisit, field, form_is_ours, read_form

router = APIRouter(include_in_schema=False)
ORDER_ID = re.compile(r"[A-Za-z0-9_-]{6,64}")
NUMBER = re.compile(r"[0-9]{1,19}")
Form = dict[str, list[str]]


async def _ops_form(request: Request, visit: PageVisit) -> tuple[PageCaller, Form] | Response:
    """The operator and the form, or the page that refuses the post (login, 403, not from here)."""
    if (refusal := refused(visit)) is not None:
        return refusal
    form = await read_form(request)
    if form is None or not form_is_ours(request, visit, form):
        return not_from_here(visit)
    assert visit.caller is not None
    return visit.caller, form


def _bad(visit: PageVisit, title: str, message: str) -> HTMLResponse:
    return render(visit, "error.html", 400, title=title, message=message)


async def _run(visit: PageVisit, back_to: str, act: Callable[[], Awaitable[Json]]) -> Response:
    try:
        answer = await act()
    except AppError as error:
        return error_page(visit, error)
    except PeerRefusal as refusal:
        message = str(refusal.body.get("message") or refusal.body.get("code"))
        return render(visit, "error.html", refusal.status, title="처리하지 못했습니다", message=message)
    return RedirectResponse(f"{back_to}?audit={answer['auditNo']}", status_code=303)


def _position(form: Form) -> tuple[int, int] | str | None:
    """The record a redrive names (``partition`` and ``offset``), None for all of them, or what is wrong."""
    partition, offset = field(form, "partition"), field(form, "offset")
    if not partition and not offset:
        return None
    if NUMBER.fullmatch(partition) is None or NUMBER.fullmatch(offset) is None:
        return "파티션과 오프셋은 0 이상의 정수여야 합니다."
    if int(partition) > MAX_PARTITION or int(offset) > MAX_OFFSET:
        return "파티션 또는 오프셋이 너무 큽니다."
    return int(partition), int(offset)


@router.post("/dead-letters/{topic}/redrive", response_class=HTMLResponse)
async def redrive(request: Request, topic: str, visit: VisitDep, console: ConsoleDep) -> Response:
    checked = await _ops_form(request, visit)
    if isinstance(checked, Response):
        return checked
    caller, form = checked
    if TOPIC.fullmatch(topic) is None:
        return render(visit, "error.html", 404, title="재처리", message=f"그런 토픽 이름은 없습니다: {topic[:80]}")
    position = _position(form)
    if isinstance(position, str):
        return _bad(visit, "재처리", position)
    actor = actor_of(caller.principal.subject)
    return await _run(visit, f"/dead-letters/{quote(topic)}", lambda: console.actions.redrive(actor, topic, position))


@router.post("/payments/{orderId}/recheck", response_class=HTMLResponse)
async def recheck(request: Request, orderId: str, visit: VisitDep, console: ConsoleDep) -> Response:
    checked = await _ops_form(request, visit)
    if isinstance(checked, Response):
        return checked
    caller, _ = checked
    if ORDER_ID.fullmatch(orderId) is None:
        return _bad(visit, "다시 확인", "주문 번호 형식이 올바르지 않습니다.")
    actor = actor_of(caller.principal.subject)
    return await _run(visit, "/", lambda: console.actions.recheck(actor, caller.token, orderId))


@router.post("/payments/{orderId}/cancel-at-psp", response_class=HTMLResponse)
async def cancel_at_psp(request: Request, orderId: str, visit: VisitDep, console: ConsoleDep) -> Response:
    checked = await _ops_form(request, visit)
    if isinstance(checked, Response):
        return checked
    caller, form = checked
    reason = field(form, "reason").strip()
    if ORDER_ID.fullmatch(orderId) is None:
        return _bad(visit, "PSP에서 취소", "주문 번호 형식이 올바르지 않습니다.")
    if field(form, "confirm") != "yes":
        return _bad(visit, "PSP에서 취소", "취소하려면 확인란에 체크해 주세요. 아무것도 취소하지 않았습니다.")
    if not reason or len(reason) > 200:
        return _bad(visit, "PSP에서 취소", "취소 사유를 1~200자로 적어 주세요. 아무것도 취소하지 않았습니다.")
    actor = actor_of(caller.principal.subject)
    return await _run(visit, "/", lambda: console.actions.cancel_at_psp(actor, caller.token, orderId, reason))


@router.post("/reconcile", response_class=HTMLResponse)
async def reconcile(request: Request, visit: VisitDep, console: ConsoleDep) -> Response:
    checked = await _ops_form(request, visit)
    if isinstance(checked, Response):
        return checked
    caller, _ = checked
    actor = actor_of(caller.principal.subject)
    return await _run(visit, "/reconcile", lambda: console.actions.reconcile(actor))

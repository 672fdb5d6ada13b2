"""The console's JSON API (ops tokens only: 401 without a valid one, 403 for another role): the overview, the
dead letters, and the actions — redrive, a payment's re-check or cancel at the PSP (order's, with the caller's
token), reconcile — each recorded in the audit (``GET /api/ops/audit``) with the operator who took it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from kiwishop.console.domain import AuditEntry, actor_of
from kiwishop.console.queries import overview
from kiwishop.console.schemas import (
    AuditOut,
    CancelAtPspIn,
    DeadLettersOut,
    OverviewOut,
    PaymentActionOut,
    ReconcileNowOut,
    RedriveIn,
    RedriveOut,
)
from kiwishop.console.services import ConsoleDep
from kiwishop.platform.auth import AUTH_RESPONSES, Credentials, OpsPrincipal
from kiwishop.platform.deps import PageLimit
from kiwishop.platform.errors import AppError
from kiwishop.platform.identity import AuthError, Principal
from kiwishop.platform.jsonutil import utc_iso
from kiwishop.platform.openapi import UNAVAILABLE, Responses
from kiwishop.platform.page_session import PageCaller
from kiwishop.platform.web import JSONResponse

router = APIRouter(prefix="/api/ops")
TOPIC = r"^[A-Za-z0-9._-]{1,249}$"  # a Kafka topic name, with or without .DLT
ORDER_ID = r"^[A-Za-z0-9_-]{6,64}$"  # order's own rule for an orderId
Topic = Annotated[str, Path(pattern=TOPIC, description="a topic, with or without .DLT")]
OrderId = Annotated[str, Path(pattern=ORDER_ID)]
OPS_ONLY: Responses = {**AUTH_RESPONSES, 403: {"description": "not an ops token (AUTH0002)"}}
TOPIC_ERRORS: Responses = {
    **OPS_ONLY, **UNAVAILABLE, 404: {"description": "no such dead-letter topic (CON0001), or no record there (CON0002)"}
}  # fmt: skip
REDRIVE_ERRORS: Responses = {
    **TOPIC_ERRORS, 409: {"description": "a redrive of this dead-letter topic is running (CON0007); nothing was sent"}
}  # fmt: skip
ORDER_ERRORS: Responses = {
    **OPS_ONLY,
    404: {"description": "order does not know the order (order's PEC0004)"},
    409: {"description": "order will not do it now: the order is not in doubt, or is being worked on (order's code)"},
    503: {"description": "order did not answer (CON0004), or the audit cannot be written; nothing was done"},
}


async def ops_caller(principal: OpsPrincipal, credentials: Credentials) -> PageCaller:
    """The operator, with the token the console forwards to the services it asks."""
    if credentials is None:  # OpsPrincipal has already refused a request without one
        raise AppError(AuthError.UNAUTHENTICATED)
    return PageCaller(principal, credentials.credentials)


OpsCaller = Annotated[PageCaller, Depends(ops_caller)]


def actor(principal: Principal) -> str:
    return actor_of(principal.subject)


def validated(model: type[BaseModel], answer: Any) -> JSONResponse:
    """The answer, checked against the route's response model on its way out (the keys it has, no more: a field
    left out stays out), so the schema the OpenAPI document shows is the one clients get."""
    return JSONResponse(model.model_validate(answer).model_dump(exclude_unset=True))


@router.get("/overview", summary="What is stuck, part by part (a part that cannot be read holds its error)",
            response_model=OverviewOut, responses=OPS_ONLY)  # fmt: skip
async def get_overview(caller: OpsCaller, console: ConsoleDep) -> JSONResponse:
    return validated(OverviewOut, await overview(console.sources, caller.token))


@router.get("/dead-letters/{topic}", summary="A dead-letter topic's records, not yet redriven first",
            response_model=DeadLettersOut, responses=TOPIC_ERRORS)  # fmt: skip
async def dead_letters(
    topic: Topic, _: OpsCaller, console: ConsoleDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> JSONResponse:
    return validated(DeadLettersOut, await console.broker.dead_letters(topic, limit))


@router.post("/dead-letters/{topic}/redrive", summary="Redrive every record not yet redriven, or the one named",
             response_model=RedriveOut, responses=REDRIVE_ERRORS)  # fmt: skip
async def redrive(topic: Topic, caller: OpsCaller, console: ConsoleDep, body: RedriveIn | None = None) -> JSONResponse:
    position = (body.partition, body.offset) if body is not None else None
    return validated(RedriveOut, await console.actions.redrive(actor(caller.principal), topic, position))


@router.post("/payments/{orderId}/recheck", summary="Ask the PSP about an order in doubt now (order does)",
             response_model=PaymentActionOut, responses=ORDER_ERRORS)  # fmt: skip
async def recheck(orderId: OrderId, caller: OpsCaller, console: ConsoleDep) -> JSONResponse:
    return validated(PaymentActionOut, await console.actions.recheck(actor(caller.principal), caller.token, orderId))


@router.post("/payments/{orderId}/cancel-at-psp", summary="Cancel an order's payment at the PSP (order does)",
             response_model=PaymentActionOut, responses=ORDER_ERRORS)  # fmt: skip
async def cancel_at_psp(orderId: OrderId, body: CancelAtPspIn, caller: OpsCaller, console: ConsoleDep) -> JSONResponse:
    answer = await console.actions.cancel_at_psp(actor(caller.principal), caller.token, orderId, body.reason)
    return validated(PaymentActionOut, answer)


@router.post(
    "/reconcile",
    summary="Reconcile now (one at a time): PSP, orders and wallets agree, per seller; the report",
    response_model=ReconcileNowOut,
    responses={**OPS_ONLY, 409: {"description": "a reconcile is running (CON0003)"},
               503: {"description": "a source cannot be read (CON0006), or the audit cannot be written"}},
)  # fmt: skip
async def reconcile_now(caller: OpsCaller, console: ConsoleDep) -> JSONResponse:
    return validated(ReconcileNowOut, await console.actions.reconcile(actor(caller.principal)))


@router.get("/audit", summary="The latest ops actions, newest first", response_model=AuditOut,
            responses={**OPS_ONLY, **UNAVAILABLE})  # fmt: skip
async def audit(_: OpsCaller, console: ConsoleDep, limit: PageLimit = 50) -> JSONResponse:
    entries = await console.audit.recent(limit)
    return validated(AuditOut, {"entries": [entry_out(e) for e in entries]})


def entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "auditNo": entry.audit_no, "actor": entry.actor, "action": entry.action, "target": entry.target,
        "outcome": entry.outcome, "detail": entry.detail, "createdAt": utc_iso(entry.created_at),
        "finishedAt": utc_iso(entry.finished_at) if entry.finished_at else None,
    }  # fmt: skip

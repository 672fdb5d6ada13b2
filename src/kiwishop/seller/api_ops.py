"""``GET /api/ops/registrations`` (ops tokens only): the registration sagas that did not complete — those still
waiting for wallet (oldest first: the ones stuck longest lead), then those compensated (newest first) — with how
many there are of each, for the ops console."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, select

from kiwishop.platform.auth import AUTH_RESPONSES, OpsPrincipal
from kiwishop.platform.deps import DatabaseDep, PageLimit
from kiwishop.platform.jsonutil import utc_iso
from kiwishop.platform.web import JSONResponse, model_response
from kiwishop.seller.domain import RegistrationState
from kiwishop.seller.tables import seller_registrations

router = APIRouter()
sr = seller_registrations
# Where a saga that did not complete stands: waiting for wallet's answer (re-sent by the sweeper), or given up on
# and compensated (the seller soft-deleted).
STEP = {RegistrationState.WALLET_REQUESTED: "WALLET_CREATION", RegistrationState.COMPENSATED: "SELLER_DELETED"}
_COLUMNS = (
    sr.c.registration_id, sr.c.seller_no, sr.c.seller_id, sr.c.state, sr.c.attempts, sr.c.last_error,
    sr.c.next_attempt_at, sr.c.created_at, sr.c.updated_at,
)  # fmt: skip
WAITING = select(*_COLUMNS).where(sr.c.state == RegistrationState.WALLET_REQUESTED).order_by(sr.c.registration_id)
COMPENSATED = select(*_COLUMNS).where(sr.c.state == RegistrationState.COMPENSATED).order_by(sr.c.registration_id.desc())
COUNTS = select(sr.c.state, func.count()).where(sr.c.state != RegistrationState.COMPLETED).group_by(sr.c.state)


class OpsRegistrationOut(BaseModel):
    registrationId: int
    sellerNo: int
    sellerId: str
    status: str
    step: str
    attempts: int  # wallet creation requests sent
    lastError: str | None
    nextAttemptAt: str | None  # waiting: when the sweeper re-sends (or compensates)
    createdAt: str
    updatedAt: str


class OpsRegistrationsOut(BaseModel):
    counts: dict[str, int]  # WALLET_REQUESTED, COMPENSATED: all of them, not just those listed
    registrations: list[OpsRegistrationOut]


def _out(row: Any) -> OpsRegistrationOut:
    state = RegistrationState(row.state)
    return OpsRegistrationOut(
        registrationId=row.registration_id, sellerNo=row.seller_no, sellerId=row.seller_id, status=state.value,
        step=STEP.get(state, state.value), attempts=row.attempts, lastError=row.last_error,
        nextAttemptAt=utc_iso(row.next_attempt_at) if state is RegistrationState.WALLET_REQUESTED else None,
        createdAt=utc_iso(row.created_at), updatedAt=utc_iso(row.updated_at),
    )  # fmt: skip


@router.get(
    "/api/ops/registrations",
    response_model=OpsRegistrationsOut,
    summary="Registration sagas that did not complete (waiting for wallet, or compensated); ops only",
    responses={**AUTH_RESPONSES, 403: {"description": "not an ops token (AUTH0002)"}},
)
async def registrations_not_completed(_: OpsPrincipal, db: DatabaseDep, limit: PageLimit = 50) -> JSONResponse:
    async with db.engine.connect() as conn:
        counts = {str(RegistrationState(s).value): int(n) for s, n in (await conn.execute(COUNTS)).all()}
        rows = list((await conn.execute(WAITING.limit(limit))).all())
        if len(rows) < limit:
            rows += (await conn.execute(COMPENSATED.limit(limit - len(rows)))).all()
    full = {state.value: counts.get(state.value, 0) for state in STEP}
    return model_response(OpsRegistrationsOut(counts=full, registrations=[_out(r) for r in rows]))

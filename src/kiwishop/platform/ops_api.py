"""``GET /api/ops/outbox`` (ops tokens only): how far behind a service's outbox relay is — what the console shows
per service and exports as ``kiwi_outbox_backlog_rows`` / ``kiwi_outbox_oldest_age_seconds``.

``pending``: rows the broker has not acknowledged yet (status not SUCCESS: waiting, leased by a relay, or backing
off); ``failed``: those of them whose publishing failed at least once (``attempts`` > 0, or FAILURE);
``oldestAgeSeconds``: how long the oldest pending row has waited since it was written (0 when none waits). Every
service with an outbox includes ``router`` in its app.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import func, or_, select

from kiwishop.platform.auth import AUTH_RESPONSES, OpsPrincipal
from kiwishop.platform.clock import utcnow
from kiwishop.platform.deps import DatabaseDep, RuntimeDep
from kiwishop.platform.outbox import outbox_table
from kiwishop.platform.web import JSONResponse, model_response

router = APIRouter()
ob = outbox_table
_not_published = ob.c.status != "SUCCESS"
BACKLOG = select(
    func.count(),
    func.coalesce(func.sum(or_(ob.c.attempts > 0, ob.c.status == "FAILURE")), 0),
    func.min(ob.c.created_at),
).where(_not_published)


class OutboxBacklogOut(BaseModel):
    service: str
    pending: int
    failed: int
    oldestAgeSeconds: float


@router.get(
    "/api/ops/outbox",
    response_model=OutboxBacklogOut,
    summary="The service's outbox rows the broker has not acknowledged yet; ops only",
    responses={**AUTH_RESPONSES, 403: {"description": "not an ops token (AUTH0002)"}},
)
async def outbox_backlog(_: OpsPrincipal, db: DatabaseDep, runtime: RuntimeDep) -> JSONResponse:
    async with db.engine.connect() as conn:
        row: Any = (await conn.execute(BACKLOG)).one()
    pending, failed, oldest = int(row[0]), int(row[1]), row[2]
    age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest is not None else 0.0
    return model_response(
        OutboxBacklogOut(service=runtime.name, pending=pending, failed=failed, oldestAgeSeconds=round(age, 3))
    )

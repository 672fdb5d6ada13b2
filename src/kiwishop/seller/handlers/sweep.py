"""The saga's deadline (a step of ``workers.registration_sweeper``): registrations whose wallet request went
unanswered are asked again (same saga id) and, after the configured number of requests, compensated
(seller soft-deleted, SELLER_DEREGISTERED). Several seller instances may sweep at once: due rows are
claimed with ``FOR UPDATE SKIP LOCKED`` and every transition is guarded by the state."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.outbox import Outbox
from kiwishop.seller.domain import Registration, RegistrationState, SweepAction, sweep_action, timeout_reason
from kiwishop.seller.handlers.registration import move_registration
from kiwishop.seller.ports import SellerTx
from kiwishop.seller.repository import sql_tx

log = logging.getLogger("kiwishop.seller.sweeper")


@dataclass(frozen=True)
class SweepResult:
    resent: int = 0
    compensated: int = 0


async def sweep_registrations(
    db: Database, outbox: Outbox, *, timeout_s: float, max_attempts: int, batch_size: int
) -> SweepResult:
    """Claim up to ``batch_size`` due registrations, re-send or compensate each, in one transaction."""
    async with db.uow() as uow:
        result = await sweep_due(
            sql_tx(uow, outbox),
            now=utcnow(),
            answer_within=dt.timedelta(seconds=timeout_s),
            max_attempts=max_attempts,
            batch_size=batch_size,
        )
        await uow.commit()
    if result.resent or result.compensated:
        log.info("registration sweep: %d re-sent, %d compensated", result.resent, result.compensated)
    return result


async def sweep_due(
    tx: SellerTx, *, now: dt.datetime, answer_within: dt.timedelta, max_attempts: int, batch_size: int
) -> SweepResult:
    resent = compensated = 0
    for registration in await tx.registrations.claim_due(now=now, limit=batch_size):
        if sweep_action(registration.attempts, max_attempts) is SweepAction.RESEND:
            resent += await _ask_again(tx, registration, now=now, due_at=now + answer_within)
        else:
            reason = timeout_reason(registration.attempts)
            compensated += await move_registration(tx, registration, RegistrationState.COMPENSATED, last_error=reason)
    return SweepResult(resent=resent, compensated=compensated)


async def _ask_again(tx: SellerTx, registration: Registration, *, now: dt.datetime, due_at: dt.datetime) -> bool:
    if not await tx.registrations.ask_again(registration, now=now, due_at=due_at):
        return False
    await tx.events.wallet_requested(
        registration_id=registration.registration_id,
        seller_no=registration.seller_no,
        seller_id=registration.seller_id,
        attempt=registration.attempts + 1,
    )
    return True

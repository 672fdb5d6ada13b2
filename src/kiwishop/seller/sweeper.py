"""The saga's deadline: registrations whose wallet request went unanswered are asked again (same saga id)
and, after the configured number of requests, compensated (seller soft-deleted, SELLER_DEREGISTERED).
Several seller instances may sweep at once: due rows are claimed with ``FOR UPDATE SKIP LOCKED`` and
every transition is guarded by the state."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.periodic import Periodic
from kiwishop.seller.domain import RegistrationState, SweepAction, sweep_action, timeout_reason
from kiwishop.seller.handlers import move_registration, request_wallet
from kiwishop.seller.tables import seller_registrations as regs

log = logging.getLogger("kiwishop.seller.sweeper")


@dataclass(frozen=True)
class SweepResult:
    resent: int = 0
    compensated: int = 0


class RegistrationSweeper:
    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        timeout_s: float,
        max_attempts: int,
        interval_s: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._timeout = dt.timedelta(seconds=timeout_s)
        self._max_attempts = max_attempts
        self._batch = batch_size
        self._worker = Periodic("seller-registration-sweeper", self._step, interval_s)

    async def start(self) -> None:
        await self._worker.start()

    async def stop(self) -> None:
        await self._worker.stop()

    async def _step(self) -> bool:
        result = await self.sweep_once()
        return result.resent + result.compensated >= self._batch

    async def sweep_once(self) -> SweepResult:
        """Claim due registrations, re-send or compensate each, in one transaction."""
        now = utcnow()
        resent = compensated = 0
        async with self._db.uow() as uow:
            rows = (
                await uow.conn.execute(
                    select(regs.c.registration_id, regs.c.seller_no, regs.c.seller_id, regs.c.attempts)
                    .where(regs.c.state == RegistrationState.WALLET_REQUESTED, regs.c.next_attempt_at <= now)
                    .order_by(regs.c.next_attempt_at)
                    .limit(self._batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            for row in rows:
                if sweep_action(row.attempts, self._max_attempts) is SweepAction.RESEND:
                    resent += await self._resend(
                        uow,
                        now,
                        registration_id=row.registration_id,
                        seller_no=row.seller_no,
                        seller_id=row.seller_id,
                        attempts=row.attempts,
                    )
                else:
                    compensated += await move_registration(
                        uow,
                        self._outbox,
                        registration_id=row.registration_id,
                        expected=RegistrationState.WALLET_REQUESTED,
                        target=RegistrationState.COMPENSATED,
                        seller_no=row.seller_no,
                        seller_id=row.seller_id,
                        last_error=timeout_reason(row.attempts),
                    )
            await uow.commit()
        if resent or compensated:
            log.info("registration sweep: %d re-sent, %d compensated", resent, compensated)
        return SweepResult(resent=resent, compensated=compensated)

    async def _resend(
        self, uow: UnitOfWork, now: dt.datetime, *, registration_id: int, seller_no: int, seller_id: str, attempts: int
    ) -> int:
        moved = await uow.conn.execute(
            update(regs)
            .where(
                regs.c.registration_id == registration_id,
                regs.c.state == RegistrationState.WALLET_REQUESTED,
                regs.c.attempts == attempts,
            )
            .values(
                attempts=attempts + 1,
                next_attempt_at=now + self._timeout,
                version=regs.c.version + 1,
                updated_at=now,
            )
        )
        if moved.rowcount != 1:
            return 0
        await request_wallet(
            uow,
            self._outbox,
            registration_id=registration_id,
            seller_no=seller_no,
            seller_id=seller_id,
            attempt=attempts + 1,
        )
        return 1

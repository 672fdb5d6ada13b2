"""Record what a PSP answer to a cancel proves (tx2), for the buyer's cancel and the recovery step alike.

Under the order's row lock, on fresh rows: DONE moves the cancel's lines SUCCESS → CANCELED with a history row
each and writes PAYMENT_CANCELED to the outbox, in one transaction; a refusal makes the cancel FAILED (the lines
are unchanged); an answer in doubt makes it UNKNOWN, asked again at ``next_attempt_at`` (per-cancel backoff:
``verdicts.backoff``; past the recovery horizon only every ``quarantine_recheck``, logged as an error — attempts
never decide anything). A cancel another attempt has decided meanwhile keeps its verdict.
"""

from __future__ import annotations

import logging
from typing import Any

from kiwishop.order.cancellation import (
    OPEN,
    Cancel,
    CancelAnswer,
    CancelResult,
    CancelStatus,
    Outcome,
    payment_canceled,
)
from kiwishop.order.ports import CancelStore, CancelTransaction, IdSource
from kiwishop.order.verdicts import Timing, backoff
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import retry_on_conflict

log = logging.getLogger("kiwishop.order.cancel")


async def cancel_of(tx: CancelTransaction, order_id: str, cancel_no: int) -> Cancel | None:
    return next((c for c in await tx.cancels_of(order_id) if c.cancel_no == cancel_no), None)


class RecordCancel:
    def __init__(self, store: CancelStore, ids: IdSource, timing: Timing) -> None:
        self._store = store
        self._ids = ids
        self.timing = timing

    async def __call__(self, order_id: str, cancel_no: int, answer: CancelAnswer, *, changed_by: str) -> CancelResult:
        """``changed_by``: "api" or "recovery"."""
        result = await retry_on_conflict(lambda: self._record(order_id, cancel_no, answer, changed_by))
        cancel = result.cancel
        since = cancel.in_doubt_since if cancel.status is CancelStatus.UNKNOWN else None
        if since is not None and utcnow() - since >= self.timing.policy.horizon:
            log.error("cancel %s of order %s still in doubt since %s (%s): a person should look",
                      cancel_no, order_id, since, cancel.failure_code)  # fmt: skip
        return result

    async def _record(self, order_id: str, cancel_no: int, answer: CancelAnswer, changed_by: str) -> CancelResult:
        async with self._store.transaction() as tx:
            payment = await tx.load_for_update(order_id)
            cancel = await cancel_of(tx, order_id, cancel_no)
            if payment is None or cancel is None:
                raise RuntimeError(f"cancel {cancel_no} of order {order_id} vanished")
            if cancel.status not in OPEN or (
                answer.outcome is Outcome.IN_DOUBT and cancel.status is not CancelStatus.EXECUTING
            ):
                return CancelResult(payment, cancel)  # another attempt's verdict (or doubt) stands
            if answer.outcome is Outcome.DONE:
                reason = f"PSP_CANCELED:{cancel_no}"
                if not await tx.cancel_lines(payment, cancel, reason=reason, changed_by=changed_by):
                    raise RuntimeError(f"order {order_id}: cancel {cancel_no}'s lines are no longer SUCCESS")
            await tx.update_cancel(cancel, self._values(cancel, answer))
            if answer.outcome is Outcome.DONE:
                await tx.add_event(payment_canceled(payment, cancel))
            await tx.commit()
        changed = cancel.line_nos if answer.outcome is Outcome.DONE else []
        log.info("cancel %s of order %s: %s (%s)", cancel_no, order_id, cancel.status, answer.code or "-")
        return CancelResult(payment, cancel, changed)

    def _values(self, cancel: Cancel, answer: CancelAnswer) -> dict[str, Any]:
        now = utcnow()
        code, message = (answer.code or "")[:100] or None, (answer.message or "")[:500] or None
        if answer.outcome is Outcome.DONE:
            return {
                "status": CancelStatus.DONE, "canceled_at": answer.canceled_at, "psp_balance": answer.balance,
                "event_id": self._ids.next_id(), "next_attempt_at": None, "failure_code": None,
                "failure_message": None,
            }  # fmt: skip
        if answer.outcome is Outcome.REFUSED:
            return {"status": CancelStatus.FAILED, "failure_code": code, "failure_message": message,
                    "next_attempt_at": None}  # fmt: skip
        since = cancel.in_doubt_since or now
        if now - since >= self.timing.policy.horizon:
            wait = self.timing.quarantine_recheck
        else:
            wait = backoff(cancel.attempts, self.timing.policy)
        return {"status": CancelStatus.UNKNOWN, "failure_code": code, "failure_message": message,
                "in_doubt_since": since, "attempts": cancel.attempts + 1, "next_attempt_at": now + wait}  # fmt: skip

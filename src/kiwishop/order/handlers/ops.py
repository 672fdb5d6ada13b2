"""What an operator may do to an order in doubt (the console's actions, ``api_ops.py``): ask the PSP again now,
or cancel the payment at the PSP.

"Cancel at the PSP" is for an order a person has decided must not stand (typically QUARANTINED: the PSP holds a
payment no rule settles). The order is claimed like a recovery step (EXECUTING under its row lock, with a lease;
never while a confirm or recovery holds a live lease), the whole payment is cancelled at the PSP with one
idempotency key per order and paymentKey (asking again repeats the same cancel, never a second one), and then:

- the PSP says it is cancelled → FAILURE, on the PSP's word (no money reached the shop; nothing was settled);
- anything else (refused: nothing to cancel, or an answer in doubt) → the order is looked up — never approved —
  and gets the verdict that answer allows, exactly as recovery would record it (so a payment the PSP never took
  becomes FAILURE only under the usual rules, and one still in doubt stays in doubt and visible).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiwishop.order.domain import IN_DOUBT, Payment, PaymentStatus
from kiwishop.order.handlers.recovery import RecoverPayments
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.ports import PaymentGateway
from kiwishop.order.verdicts import Evidence, PspResult, Verdict

log = logging.getLogger("kiwishop.order.ops")


def ops_cancel_key(order_id: str, payment_key: str) -> str:
    return f"ops-cancel-{order_id}-{payment_key}"[:300]


@dataclass(frozen=True)
class OpsOutcome:
    """What an action found (``before``) and left (``payment``); None when the order was not in doubt or was being
    worked on. ``psp``: what the PSP answered (its code, or the evidence)."""

    before: PaymentStatus
    payment: Payment | None
    psp: str | None = None


class OpsActions:
    def __init__(self, gateway: PaymentGateway, record_verdict: RecordVerdict, recovery: RecoverPayments) -> None:
        self._gateway = gateway
        self._record_verdict = record_verdict
        self._recovery = recovery

    async def recheck(self, payment: Payment, *, actor: str) -> OpsOutcome:
        return OpsOutcome(payment.status, await self._recovery.recheck(payment.order_id, changed_by=actor))

    async def cancel_at_psp(self, payment: Payment, *, actor: str, reason: str) -> OpsOutcome:
        before = payment.status
        if before not in IN_DOUBT:
            return OpsOutcome(before, None)
        claimed = await self._recovery.claim_now(payment.order_id, changed_by=actor, reason="OPS_CANCEL_AT_PSP")
        if claimed is None:
            return OpsOutcome(before, None)
        key = claimed.payment_key or claimed.pending_payment_key
        found = await self._gateway.lookup(claimed.order_id, claimed.total_amount, key, by_order=key is None)
        psp_key = found.payment_key or key
        if found.evidence not in _CANCELABLE or psp_key is None:  # nothing taken, or no word: the usual verdict
            settled = await self._record_verdict(claimed, _not_approving(found), changed_by=actor)
            return OpsOutcome(before, settled, found.code or found.evidence.value)
        cancel = await self._gateway.cancel(
            psp_key, claimed.order_id, reason=f"kiwi-shop ops: {reason}"[:200],
            idempotency_key=ops_cancel_key(claimed.order_id, psp_key),
        )  # fmt: skip
        log.warning("order %s: %s cancelled payment %s at the PSP (%s): %s", claimed.order_id, actor, psp_key,
                    reason, cancel.code or cancel.evidence.value)  # fmt: skip
        if cancel.evidence is Evidence.DECLINED and cancel.code == "PAYMENT_CANCELED":
            message = f"cancelled at the PSP by {actor}: {reason}"[:500]
            decided = Verdict(PaymentStatus.FAILURE, "CANCELED_BY_OPS", message)
            settled = await self._record_verdict.record(claimed, decided, changed_by=actor)
            return OpsOutcome(before, settled, cancel.code)
        after = await self._gateway.lookup(claimed.order_id, claimed.total_amount, psp_key)
        settled = await self._record_verdict(claimed, _not_approving(after), changed_by=actor)
        return OpsOutcome(before, settled, cancel.code or cancel.evidence.value)


# What the PSP may hold of ours that a cancel gives back: a DONE payment (ours, or of another amount / key), one no
# rule settles, or one authorised and never confirmed (which the PSP may refuse to cancel: it then expires).
_CANCELABLE = frozenset({Evidence.APPROVED, Evidence.MISMATCH, Evidence.ODD, Evidence.AUTHORISED})


def _not_approving(answer: PspResult) -> PspResult:
    """An operator who asked to cancel never gets a payment confirmed instead: a payment authorised and not confirmed
    stays in doubt (recovery may confirm it later, as for any order in doubt)."""
    if answer.evidence is Evidence.AUTHORISED:
        return PspResult.in_doubt(answer.code or "PSP_NOT_CONFIRMED", answer.message or "authorised, not confirmed")
    return answer

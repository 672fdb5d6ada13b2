"""**refund** (PAYMENT_CANCELED): wallet takes back the canceled lines of a paid order, in one ledger transaction
(``ports.Ledger``), re-run whole on ``ConflictError`` like settlement (``consumers.py``).

Each canceled line is decided on its own, by what the ledger holds for it (``plan_refund``):

- **debited already** (its ``debit:{orderId}:{paymentOrderNo}`` key exists), or **canceled while held**: nothing
  — a repeated PAYMENT_CANCELED, under the same or a new event id, debits nothing twice;
- **still held** (its seller had no wallet, and the line has not been credited since): the hold is canceled —
  released without a credit, and never credited later — and nothing is debited: the seller never got it;
- its seller **has a wallet** otherwise: one DEBIT row (the line's amount, positive; ``reference_id`` = the
  paymentOrderNo) and the wallet lowered by it under its version check, below zero if need be (the seller owes
  it). This holds whether the line was credited yet or not: one order's events share a partition, but the
  outbox may publish a PAYMENT_CANCELED ahead of its PAYMENT_CONFIRM after a failed publish attempt. Waiting
  for the credit would stall the partition for good — the confirm is behind the cancel — while debiting now
  keeps Σ CREDIT − Σ DEBIT = balance at every commit; the confirm then credits the line (its credit key is
  free), and the seller nets zero for it;
- its seller **has no wallet and the line is neither held nor credited** (the cancel overtook the confirm): the
  line is written to ``held_settlements`` as canceled already, so that its PAYMENT_CONFIRM neither holds nor
  credits it, whenever it comes and whether the wallet exists by then or not.

A cancel that disagrees with what the ledger holds for a line (another amount, another seller's wallet or hold)
is refused like an invalid payload: parked, nothing written — a debit never differs from its credit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.domain import (
    CanceledOrder,
    InvalidPayload,
    PaymentLine,
    credit_key,
    debit_key,
    parse_payment_canceled,
    totals_by_seller,
)
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER, parsed
from kiwishop.wallet.ports import CANCELED_WHILE_HELD, HELD, Ledger, RefundLookup

refund_log = logging.getLogger("kiwishop.wallet.refund")


@dataclass
class RefundPlan:
    debit: list[PaymentLine] = field(default_factory=list)  # from the wallets of their sellers
    cancel_held: list[str] = field(default_factory=list)  # credit keys of held lines: released, never credited
    hold_canceled: list[PaymentLine] = field(default_factory=list)  # no wallet, not held yet: held as canceled
    not_credited: list[PaymentLine] = field(default_factory=list)  # of ``debit``: the credit has not come yet


def plan_refund(cancel: CanceledOrder, found: RefundLookup) -> RefundPlan:
    """What a cancel writes, line by line (the module's rules); ``InvalidPayload`` when a line disagrees with
    the ledger."""
    plan = RefundPlan()
    for line in cancel.lines:
        key = credit_key(cancel.order_id, line.payment_order_no)
        wallet, credit, held = found.wallets.get(line.seller_no), found.entries.get(key), found.held.get(key)
        wallet_no = None if wallet is None else wallet.wallet_no
        if credit is not None and (credit.wallet_no, credit.amount) != (wallet_no, line.amount):
            raise InvalidPayload(f"line {line.payment_order_no}: credited {credit.amount} to wallet "
                                 f"{credit.wallet_no}, canceled {line.amount} of seller {line.seller_no}")  # fmt: skip
        if held is not None and (held.seller_no, held.amount) != (line.seller_no, line.amount):
            raise InvalidPayload(f"line {line.payment_order_no}: held {held.amount} for seller {held.seller_no}, "
                                 f"canceled {line.amount} of seller {line.seller_no}")  # fmt: skip
        if debit_key(cancel.order_id, line.payment_order_no) in found.entries or (
            held is not None and held.state == CANCELED_WHILE_HELD
        ):
            continue
        if held is not None and held.state == HELD:
            plan.cancel_held.append(key)
        elif wallet is not None:
            plan.debit.append(line)
            if credit is None:
                plan.not_credited.append(line)
        else:
            plan.hold_canceled.append(line)
    return plan


async def refund(ledger: Ledger, envelope: Envelope) -> None:
    """A cancel of some lines of a paid order: each line debited (or its hold canceled) once, in one
    transaction."""
    cancel = parsed(parse_payment_canceled, envelope)
    order_id = cancel.order_id
    async with ledger.transaction() as tx:
        if not await tx.record_delivery(SETTLEMENT_CONSUMER, envelope):
            return  # this very event was handled: a new event id of the same cancel finds its keys taken
        keys = [k(order_id, line.payment_order_no) for line in cancel.lines for k in (credit_key, debit_key)]
        found = await tx.refund_lookup({line.seller_no for line in cancel.lines}, keys)
        try:
            plan = plan_refund(cancel, found)
        except InvalidPayload as exc:
            raise PermanentError(f"PAYMENT_CANCELED of order {order_id}: {exc}") from exc
        if plan.cancel_held:
            await tx.cancel_held(plan.cancel_held)
            refund_log.info("order %s: %d held line(s) canceled, never credited", order_id, len(plan.cancel_held))
        if plan.hold_canceled:
            await tx.hold_canceled(envelope.event_id, order_id, plan.hold_canceled)
            refund_log.warning(
                "order %s: line(s) %s canceled before their PAYMENT_CONFIRM (seller without a wallet): never credited",
                order_id, [line.payment_order_no for line in plan.hold_canceled],
            )  # fmt: skip
        if plan.debit:
            await tx.debit(order_id, plan.debit, {s: w.wallet_no for s, w in found.wallets.items()})
            totals = {seller_no: -amount for seller_no, amount in totals_by_seller(plan.debit).items()}
            await tx.add_to_balances(totals, found.wallets)
            refund_log.info("order %s: cancel %d debited %s", order_id, cancel.cancel_no, totals)
        if plan.not_credited:
            refund_log.warning(
                "order %s: line(s) %s debited before their credit (PAYMENT_CANCELED ahead of PAYMENT_CONFIRM)",
                order_id, [line.payment_order_no for line in plan.not_credited],
            )  # fmt: skip
        await tx.commit()

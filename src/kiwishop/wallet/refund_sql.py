"""The SQL of a cancel (``handlers.refund``) that settlement does not share; ``repository.py`` sends it.

``REFUND_LOOKUP`` is the cancel's one read, shaped like settlement's ``LOOKUP``: the sellers' wallets
(``FOR UPDATE``, in seller-number order — the lock settlement and the held-line sweeper take first, so a cancel
queues behind them and they behind it), the credits and debits already written for the canceled lines, and
their held lines (``FOR UPDATE``: whether a line is still held decides between canceling the hold and a debit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, text

from kiwishop.wallet.domain import LockedWallet, PaymentLine, credit_key
from kiwishop.wallet.ports import CANCELED_WHILE_HELD, HELD, RELEASED, Entry, HeldEntry, RefundLookup

REFUND_LOOKUP = text(
    "(SELECT 'W' AS kind, seller_no, wallet_no, version, NULL AS entry_key, NULL AS amount, NULL AS state"
    " FROM wallets WHERE seller_no IN :sellers FOR UPDATE)"
    " UNION ALL"
    " (SELECT 'T', NULL, wallet_no, NULL, idempotency_key, amount, NULL FROM wallet_transactions"
    " WHERE idempotency_key IN :keys)"
    " UNION ALL"
    " (SELECT 'H', seller_no, NULL, NULL, idempotency_key, amount,"
    f" CASE WHEN canceled_at IS NOT NULL THEN '{CANCELED_WHILE_HELD}' WHEN released_at IS NOT NULL"
    f" THEN '{RELEASED}' ELSE '{HELD}' END"
    " FROM held_settlements WHERE idempotency_key IN :keys FOR UPDATE)"
).bindparams(bindparam("sellers", expanding=True), bindparam("keys", expanding=True))
# Only lines still held: a line the sweeper credited meanwhile is no longer canceled here (a conflict, re-run).
CANCEL_HELD = text(
    "UPDATE held_settlements SET released_at = :now, canceled_at = :now"
    " WHERE idempotency_key IN :keys AND released_at IS NULL"
).bindparams(bindparam("keys", expanding=True))
HOLD_CANCELED = text(
    "INSERT INTO held_settlements (idempotency_key, order_id, payment_order_no, seller_no, amount, event_id,"
    " created_at, released_at, canceled_at) VALUES (:k, :o, :p, :s, :a, :e, :now, :now, :now)"
)


def refund_lookup(rows: Iterable[Any]) -> RefundLookup:
    """``REFUND_LOOKUP``'s rows read."""
    found = RefundLookup(wallets={}, entries={}, held={})
    for row in rows:
        if row.kind == "W":
            found.wallets[int(row.seller_no)] = LockedWallet(int(row.wallet_no), int(row.version))
        elif row.kind == "T":
            found.entries[row.entry_key] = Entry(int(row.wallet_no), Decimal(row.amount))
        else:
            found.held[row.entry_key] = HeldEntry(int(row.seller_no), Decimal(row.amount), str(row.state))
    return found


def canceled_hold_rows(
    event_id: int, order_id: str, lines: Sequence[PaymentLine], now: dt.datetime
) -> list[dict[str, Any]]:
    """``HOLD_CANCELED``'s rows: each line under the key its credit would have had."""
    return [
        {"k": credit_key(order_id, line.payment_order_no), "o": order_id, "p": line.payment_order_no,
         "s": line.seller_no, "a": line.amount, "e": event_id, "now": now}
        for line in lines
    ]  # fmt: skip

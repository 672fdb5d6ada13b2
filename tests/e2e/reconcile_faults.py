"""The faults test_reconcile.py injects, one at a time, each with what reconcile must report — exactly one check
catching it, but where the fault itself breaks two agreements (said at the fault). Seller 1 sells products 1–3
(1,000, 2,000 and 3,000 won); ``Shop`` is what the test paid and gave back through order and wallet."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from kiwishop.platform.settings import InfraSettings
from tests.e2e.reconcile_support import Aside, Fault, execute, seller_line

LINES_OF = "UPDATE payment_orders SET payment_order_status = :s{extra} WHERE order_id = :o"


@dataclass(frozen=True)
class Shop:
    infra: InfraSettings
    psp: httpx.AsyncClient  # the emulator (its test surface)
    first: str  # paid, nothing given back: SUCCESS
    partly: str  # paid, product 2's line cancelled through order: PARTIAL_CANCELED
    unpaid: str  # checked out, never paid: NOT_STARTED
    line_nos: dict[str, dict[int, int]]  # orderId → productNo → paymentOrderNo

    def sql(self, db: str, *statements: str, **params: object) -> Callable[[], Awaitable[None]]:
        return lambda: execute(self.infra, db, *statements, **params)


def money_faults(shop: Shop) -> list[Fault]:
    """One fault per check that reconcile made before it knew cancels."""
    sql, first, unpaid = shop.sql, shop.first, shop.unpaid
    return [
        Fault(
            "a wallet's balance differs from its ledger (one won from nowhere)",
            sql("rc_wallet", "UPDATE wallets SET balance = balance + 1 WHERE seller_no = 1"),
            sql("rc_wallet", "UPDATE wallets SET balance = balance - 1 WHERE seller_no = 1"),
            [("seller", seller_line(balance="10001.00"))],
        ),
        Fault(
            "a ledger row without its balance change",
            sql(
                "rc_wallet",
                "INSERT INTO wallet_transactions VALUES (9001, 1, 1.00, 'CREDIT', 9001, 'TEST', NULL,"
                " 'fault:ledger', UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))",
            ),
            sql("rc_wallet", "DELETE FROM wallet_transactions WHERE idempotency_key = 'fault:ledger'"),
            [("seller", seller_line(ledger="10001.00"))],
        ),
        Fault(
            "a held settlement nobody paid for",
            sql(
                "rc_wallet",
                "INSERT INTO held_settlements (idempotency_key, order_id, payment_order_no, seller_no, amount,"
                " event_id, created_at) VALUES ('fault:held', 'no-such-order', 9002, 1, 1.00, 9002, UTC_TIMESTAMP(3))",
            ),
            sql("rc_wallet", "DELETE FROM held_settlements WHERE idempotency_key = 'fault:held'"),
            [("seller", seller_line(held="1.00"))],
        ),
        Fault(
            "an approved order's line is not SUCCESS (the order still is)",
            sql("rc_order", LINES_OF.format(extra="") + " AND product_no = 3", s="FAILURE", o=first),
            sql("rc_order", LINES_OF.format(extra="") + " AND product_no = 3", s="SUCCESS", o=first),
            [("seller", seller_line(success_lines="7000.00"))],
        ),
        Fault(
            "an order's total is not what the PSP approved",
            sql("rc_order", "UPDATE payment_events SET total_amount = total_amount + 1 WHERE order_id = :o", o=first),
            sql("rc_order", "UPDATE payment_events SET total_amount = total_amount - 1 WHERE order_id = :o", o=first),
            [("psp-vs-order", first)],
        ),
        Fault(
            "an order SUCCESS that the PSP never approved",
            sql("rc_order", LINES_OF.format(extra=""), s="SUCCESS", o=unpaid),
            sql("rc_order", LINES_OF.format(extra=""), s="NOT_STARTED", o=unpaid),
            # its line is counted as paid while no approval stands behind it: seller 1's columns disagree too
            [("success-without-psp", unpaid), ("seller", seller_line(success_lines="11000.00"))],
        ),
        Fault(
            "a paid order not settled past the lag bound",
            sql("rc_order", "UPDATE payment_events SET is_wallet_done = 0 WHERE order_id = :o", o=first),
            sql("rc_order", "UPDATE payment_events SET is_wallet_done = 1 WHERE order_id = :o", o=first),
            [("unsettled", first)],
        ),
        Fault(
            "an order in doubt past the recovery window",
            sql(
                "rc_order",
                LINES_OF.format(extra=", updated_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR"),
                s="UNKNOWN",
                o=unpaid,
            ),
            sql("rc_order", LINES_OF.format(extra=""), s="NOT_STARTED", o=unpaid),
            [("stuck", unpaid)],
        ),
        Fault(
            "an order QUARANTINED (a person must decide)",
            sql("rc_order", LINES_OF.format(extra=""), s="QUARANTINED", o=unpaid),
            sql("rc_order", LINES_OF.format(extra=""), s="NOT_STARTED", o=unpaid),
            [("quarantined", unpaid)],
        ),
    ]


def shop_gives_back(shop: Shop, order_id: str, product_no: int, amount: str) -> Callable[[], Awaitable[None]]:
    """What order and wallet write for a cancel of one line, without asking the PSP: the line CANCELED, one DEBIT
    row (``debit:{orderId}:{paymentOrderNo}``) and the seller's balance lowered by it."""
    line = shop.line_nos[order_id][product_no]

    async def write() -> None:
        await execute(shop.infra, "rc_order", LINES_OF.format(extra="") + " AND product_no = :p",
                      s="CANCELED", o=order_id, p=product_no)  # fmt: skip
        await execute(
            shop.infra,
            "rc_wallet",
            "INSERT INTO wallet_transactions (wallet_transaction_no, wallet_no, amount, type, reference_id,"
            " reference_type, order_id, idempotency_key, created_at, updated_at) SELECT 9003, wallet_no, :a, 'DEBIT',"
            " :l, 'PAYMENT_ORDER', :o, :k, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM wallets WHERE seller_no = 1",
            "UPDATE wallets SET balance = balance - :a, version = version + 1 WHERE seller_no = 1",
            a=amount, l=line, o=order_id, k=f"debit:{order_id}:{line}",
        )  # fmt: skip

    return write


def shop_takes_back(shop: Shop, order_id: str, product_no: int, amount: str) -> Callable[[], Awaitable[None]]:
    """``shop_gives_back`` undone: the line SUCCESS again, its DEBIT row gone and the balance as it was."""

    async def undo() -> None:
        await execute(shop.infra, "rc_order", LINES_OF.format(extra="") + " AND product_no = :p",
                      s="SUCCESS", o=order_id, p=product_no)  # fmt: skip
        await execute(
            shop.infra,
            "rc_wallet",
            "DELETE FROM wallet_transactions WHERE wallet_transaction_no = 9003",
            "UPDATE wallets SET balance = balance + :a, version = version + 1 WHERE seller_no = 1",
            a=amount,
        )

    return undo


def cancel_faults(shop: Shop) -> list[Fault]:
    """One fault per check that cancels brought: the ledger without a DEBIT, a cancel the PSP never made, cancels in
    doubt. (A cancel at the PSP the shop never recorded is ``outside_cancel``: it can't be undone at the PSP.)"""
    sql, first, partly = shop.sql, shop.first, shop.partly
    debit = Aside(shop.infra, "rc_wallet", "wallet_transactions", "idempotency_key = :k",
                  {"k": f"debit:{partly}:{shop.line_nos[partly][2]}"})  # fmt: skip
    add_cancel = (
        "INSERT INTO payment_cancels (order_id, cancel_no, payment_event_no, payment_key, amount, reason, status,"
        " idempotency_key, next_attempt_at, created_at, updated_at) SELECT order_id, 9, payment_event_no,"
        " payment_key, 1000.00, 'fault', :s, CONCAT('cancel-', order_id, '-9'), :lease, '2026-01-01 03:04:05',"
        " '2026-01-01 03:04:05' FROM payment_events WHERE order_id = :o"
    )
    no_cancel = sql("rc_order", "DELETE FROM payment_cancels WHERE order_id = :o AND cancel_no = 9", o=first)
    return [
        Fault(
            "a cancelled line's DEBIT row is missing (the balance was lowered)",
            debit.take,
            debit.put_back,
            [("seller", seller_line(ledger="12000.00"))],
        ),
        Fault(
            "a line CANCELED in order (and debited by wallet) that the PSP never cancelled",
            shop_gives_back(shop, first, 1, "1000.00"),
            shop_takes_back(shop, first, 1, "1000.00"),
            # order and wallet agree with each other (seller 1's columns too): only the PSP says otherwise
            [("psp-cancels-vs-order", first)],
            [
                f"order {first}: the PSP canceled 0.00 and holds 6000.00, the order's lines CANCELED 1000.00"
                " and not 5000.00"
            ],
        ),
        Fault(
            "a cancel in doubt (UNKNOWN) past the recovery window",
            sql("rc_order", add_cancel, s="UNKNOWN", lease="2026-01-01 03:04:06", o=first),
            no_cancel,
            [("cancel-stuck", first)],
            [f"order {first}: cancel 9 stuck in UNKNOWN since 03:04:05"],
        ),
        Fault(
            "a cancel EXECUTING past its lease and the recovery window (its attempt died)",
            sql("rc_order", add_cancel, s="EXECUTING", lease="2026-01-01 03:05:05", o=first),
            no_cancel,
            [("cancel-stuck", first)],
            [f"order {first}: cancel 9 stuck in EXECUTING since 03:04:05"],
        ),
    ]


def outside_cancel(shop: Shop, payment_key: str) -> Fault:
    """Product 1's 1,000 won of ``first`` cancelled at the PSP (its console), never recorded by the shop. The PSP
    keeps it: undone by the shop recording it as order's webhook handling and wallet would."""

    async def cancel_at_psp() -> None:
        answer = await shop.psp.post(f"/emulator/payments/{payment_key}/cancel-outside", json={"cancelAmount": 1000})
        assert answer.status_code == 200, answer.text
        await asyncio.sleep(0)

    return Fault(
        "a cancel at the PSP that the shop never recorded",
        cancel_at_psp,
        shop_gives_back(shop, shop.first, 1, "1000.00"),
        [("psp-cancels-vs-order", shop.first)],
        [
            f"order {shop.first}: the PSP canceled 1000.00 and holds 5000.00, the order's lines CANCELED 0.00"
            " and not 6000.00"
        ],
    )

"""One payment's SQL as the services send it, replayed straight into MariaDB through the services' driver.

Every statement is the product's own (``order/repository.py``, ``catalog/queries.py``, ``wallet/repository.py``,
``platform/inbox.py``, ``platform/outbox.py``, ``platform/relay.py``) with the rows their builders make, so a
change to the services' SQL changes what the DB-limit replay measures. In the order of the services:

1. catalog: the product lookup;
2. checkout tx: the payment event, its lines, their history rows;
3. confirm tx1: the order's lock, the order with its lines, lines → EXECUTING, history, the event's paymentKey;
4. confirm tx2: lock, load, lines → SUCCESS, history, the event's approval, PAYMENT_CONFIRM into the outbox;
5. wallet's settlement tx: the inbox row, WALLET_SETTLED into the outbox, the wallets and credit keys
   (``FOR UPDATE``), the credits, the balances;
6. order's WALLET_SETTLED tx: the inbox row, ``is_wallet_done``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.catalog.queries import PRODUCTS_BY_NO
from kiwishop.contracts.events import PAYMENT_CONFIRM, WALLET_SETTLED
from kiwishop.order import repository as order_sql
from kiwishop.order.domain import (
    Line,
    Payment,
    PaymentStatus,
    approved_values,
    order_name,
    payment_confirmed,
    started_values,
)
from kiwishop.platform import inbox, outbox
from kiwishop.platform.clock import utcnow
from kiwishop.platform.ids import Snowflake
from kiwishop.wallet import repository as wallet_sql
from kiwishop.wallet.domain import (
    SUCCESS,
    LockedWallet,
    PaidOrder,
    PaymentLine,
    credit_key,
    settled_payload,
    totals_by_seller,
)
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER
from kiwishop_dev.bench.dbapi import execute_many, run
from kiwishop_dev.bench.load import Product

ORDER_DB, WALLET_DB, CATALOG_DB = "bench_replay_order", "bench_replay_wallet", "payment_msa_v2_catalog"
ORDER_WALLET_CONSUMER = "order-wallet-result"
LEASE = dt.timedelta(seconds=30)
SETTLEMENT_GRACE = dt.timedelta(seconds=30)


@dataclass
class PaymentReplay:
    """Replays whole payments over the products; ``wallets``: seller number → wallet number (replay's schema)."""

    products: list[Product]
    wallets: dict[int, int]
    ids: Snowflake
    rng: random.Random

    async def __call__(self, conns: Mapping[str, Any]) -> None:
        chosen = sorted(self.rng.sample(self.products, self.rng.randint(1, min(3, len(self.products)))),
                        key=lambda p: p.product_no)  # fmt: skip
        async with conns[CATALOG_DB].cursor() as cur:
            await run(cur, PRODUCTS_BY_NO, {"product_nos": [p.product_no for p in chosen]})
            await cur.fetchall()
        await conns[CATALOG_DB].rollback()
        payment = self.new_payment(chosen)
        conn = conns[ORDER_DB]
        await self.checkout(conn, payment)
        key, now = f"tgen_{uuid.uuid4().hex[:24]}", utcnow()
        await self.move(conn, payment, PaymentStatus.EXECUTING, "CONFIRM_STARTED",
                        started_values(key, now, now + LEASE))  # fmt: skip
        approved = approved_values(key, now.replace(microsecond=0), self.ids.next_id(), now + SETTLEMENT_GRACE)
        confirm = await self.move(conn, payment, PaymentStatus.SUCCESS, "PSP_APPROVED", approved, confirmed=True)
        await self.settle(conns[WALLET_DB], payment, confirm)
        async with conn.cursor() as cur:
            claimed = inbox.claim_params(ORDER_WALLET_CONSUMER, self.ids.next_id(), WALLET_SETTLED.name)
            await run(cur, inbox.CLAIM, claimed)
            await run(cur, order_sql.WALLET_SETTLED, {"settled_order_id": payment.order_id})
        await conn.commit()

    def new_payment(self, chosen: list[Product]) -> Payment:
        lines = [
            Line(self.ids.next_id(), p.product_no, p.seller_no, "상품", p.price, PaymentStatus.NOT_STARTED)
            for p in chosen
        ]
        return Payment(
            payment_event_no=self.ids.next_id(), member_no=self.rng.randint(1, 1000), order_id=str(uuid.uuid4()),
            order_name=order_name([line.product_name for line in lines]),
            total_amount=sum((p.price for p in chosen), Decimal("0.00")), payment_key=None, approved_at=None,
            is_payment_done=False, is_wallet_done=False, failure_code=None, failure_message=None, lines=lines,
        )  # fmt: skip

    async def checkout(self, conn: Any, payment: Payment) -> None:
        now = utcnow()
        previous = [(line.payment_order_no, None) for line in payment.lines]
        async with conn.cursor() as cur:
            await execute_many(cur, order_sql.INSERT_EVENT, [order_sql.event_row(payment, now)])
            await execute_many(cur, order_sql.INSERT_LINES, order_sql.line_rows(payment, now))
            history = order_sql.history_rows(self.ids, previous, PaymentStatus.NOT_STARTED, "CHECKOUT", "api", now)
            await execute_many(cur, order_sql.INSERT_HISTORY, history)
        await conn.commit()

    async def move(
        self,
        conn: Any,
        payment: Payment,
        to: PaymentStatus,
        reason: str,
        values: dict[str, object],
        *,
        confirmed: bool = False,
    ) -> dict[str, Any]:
        """One of confirm's transactions (``repository.move`` under the order's lock); with ``confirmed``, the
        PAYMENT_CONFIRM of the order's new rows too. Returns that event's envelope fields (or ``{}``)."""  # fmt: skip
        now = utcnow()
        previous = payment.status
        event: dict[str, Any] = {}
        async with conn.cursor() as cur:
            await run(cur, order_sql.LOAD_FOR_UPDATE, {"order_id": payment.order_id})
            await cur.fetchall()
            await run(cur, order_sql.MOVE_LINES, order_sql.move_params(payment.order_id, previous, to, now))
            lines = [(line.payment_order_no, previous) for line in payment.lines]
            await execute_many(cur, order_sql.INSERT_HISTORY, order_sql.history_rows(
                self.ids, lines, to, reason, "api", now))  # fmt: skip
            await run(cur, order_sql.UPDATE_EVENT, order_sql.event_update(payment.order_id, now, values))
            for line in payment.lines:
                line.status = to
            for name, value in values.items():
                setattr(payment, name, value)
            if confirmed:
                sent = payment_confirmed(payment)
                envelope, row = outbox.outbox_row(
                    self.ids, topic=PAYMENT_CONFIRM.topic, key=sent.key, event_type=sent.type, payload=sent.payload,
                    idempotency_key=sent.idempotency_key, event_id=sent.event_id,
                )  # fmt: skip
                await execute_many(cur, outbox.INSERT, [row])
                event = {"eventId": envelope.event_id, "type": PAYMENT_CONFIRM.name}
        await conn.commit()
        return event

    async def settle(self, conn: Any, payment: Payment, confirm: dict[str, Any]) -> None:
        """wallet's settlement transaction (``wallet.handlers.settle`` for sellers that all have wallets)."""
        now = utcnow()
        paid = [PaymentLine(line.payment_order_no, line.seller_no, line.amount, SUCCESS) for line in payment.lines]
        order, totals = PaidOrder(payment.order_id, tuple(paid)), totals_by_seller(paid)
        keys = [credit_key(payment.order_id, line.payment_order_no) for line in paid]
        async with conn.cursor() as cur:
            await run(cur, inbox.CLAIM, inbox.claim_params(SETTLEMENT_CONSUMER, confirm["eventId"], confirm["type"]))
            await run(cur, wallet_sql.LOOKUP, {"sellers": sorted(totals), "keys": keys})
            found = {int(r[0]): LockedWallet(int(r[1]), int(r[2])) for r in await cur.fetchall() if r[0] is not None}
            _, row = outbox.outbox_row(
                self.ids, topic=WALLET_SETTLED.topic, key=payment.order_id, event_type=WALLET_SETTLED.name,
                payload=dict(settled_payload(order)), idempotency_key=f"wallet-settled:{confirm['eventId']}",
            )  # fmt: skip
            await run(cur, outbox.INSERT_OR_REQUEUE, row)
            credits = wallet_sql.credit_rows(self.ids, payment.order_id, paid, self.wallets, now)
            await execute_many(cur, wallet_sql.INSERT_CREDITS, credits)
            await run(cur, wallet_sql.update_balances(len(totals)), wallet_sql.balance_params(totals, found, now))
        await conn.commit()

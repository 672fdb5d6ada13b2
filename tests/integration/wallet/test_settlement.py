"""Settlement of PAYMENT_CONFIRM through the running wallet app (real broker and database)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest
from sqlalchemy import text

from kiwishop.contracts.topics import PAYMENT, WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import settlement_handler
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER
from tests.integration.seller_wallet.support import (
    IDS,
    add_wallet,
    balance,
    credits_of_order,
    decoded,
    exact,
    outbox_drained,
    payment_confirm,
    processed,
    publish_orders,
    rows,
    wallet_row,
    wallet_settings,
)
from tests.support import as_seller, eventually, headers_dict, read_to_end, read_topic, running_app, unique


async def settled(db: Database, event_id: int) -> bool:
    return await processed(db, SETTLEMENT_CONSUMER, event_id)


async def test_the_seed_order_of_products_1_2_3_credits_seller_1_with_three_distinct_credit_rows(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    order_id = unique("seed-order")
    lines = [(IDS.next_id(), 1, "1000.00", "SUCCESS"), (IDS.next_id(), 1, "2000.00", "SUCCESS")]
    lines.append((IDS.next_id(), 1, "3000.00", "SUCCESS"))
    event = payment_confirm(order_id, lines, totalAmount=Decimal("6000.00"))
    async with running_app(create_app(wallet_settings(infra))) as wallet:
        await publish_orders(publisher, [event])
        await eventually(lambda: settled(wallet_db, event.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
        body = exact(await wallet.get("/api/wallets/sellers/1", headers=as_seller(1)))
    credited = await credits_of_order(wallet_db, order_id)
    assert [(r.wallet_no, r.amount, r.type, r.reference_type) for r in credited] == [
        (1, Decimal("1000.00"), "CREDIT", "PAYMENT_ORDER"),
        (1, Decimal("2000.00"), "CREDIT", "PAYMENT_ORDER"),
        (1, Decimal("3000.00"), "CREDIT", "PAYMENT_ORDER"),
    ]
    assert [r.reference_id for r in credited] == sorted(no for no, *_ in lines)
    assert {r.idempotency_key for r in credited} == {f"settle:{order_id}:{no}" for no, *_ in lines}
    # Wallet 1 may also hold other tests' credits and debits: its balance is its ledger (CREDIT − DEBIT), this order
    # adds 6000.00, and every settlement or cancel that changed it bumped its version once.
    ledger = await rows(
        wallet_db, "SELECT amount, type, order_id, created_at FROM wallet_transactions WHERE wallet_no = 1"
    )
    signed = [(r.amount if r.type == "CREDIT" else -r.amount, r.order_id) for r in ledger]
    settlements = {r.order_id for r in ledger if r.type == "CREDIT"}  # an order's credits: one transaction
    cancels = {(r.order_id, r.created_at) for r in ledger if r.type == "DEBIT"}  # a cancel's debits: one transaction
    assert body == {"walletNo": 1, "sellerNo": 1, "balance": sum(a for a, _ in signed),
                    "version": len(settlements) + len(cancels)}  # fmt: skip
    assert sum(a for a, o in signed if o != order_id) + Decimal("6000.00") == body["balance"]
    results = [e for e in decoded(await read_topic(infra, WALLET)) if e.payload.get("orderId") == order_id]
    assert [(e.type, e.key, e.payload) for e in results] == [
        (
            "WALLET_SETTLED",
            order_id,
            {"orderId": order_id, "sellers": [{"sellerNo": 1, "amount": Decimal("6000.00")}], "held": []},
        )
    ]


async def test_a_redelivered_or_re_emitted_payment_confirm_changes_no_balance_and_no_row(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    order_id = unique("order")
    first = payment_confirm(order_id, [(IDS.next_id(), seller_no, "10.00", "SUCCESS")])
    again = payment_confirm(order_id, [(no, s, str(a), st) for no, s, a, st in _lines(first)])  # a new event id
    async with running_app(create_app(wallet_settings(infra))):
        await publish_orders(publisher, [first, first, again])  # one key: one partition, in this order
        await eventually(lambda: settled(wallet_db, again.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    row = await wallet_row(wallet_db, seller_no)
    assert (row.balance, row.version) == (Decimal("10.00"), 1)
    assert len(await credits_of_order(wallet_db, order_id)) == 1
    results = [e for e in decoded(await read_topic(infra, WALLET, expect=2)) if e.payload.get("orderId") == order_id]
    # Every delivery is answered (order re-sends until it hears back): a repeated delivery of one event makes its
    # WALLET_SETTLED due again with the same eventId; credits never repeat. Identical payloads throughout.
    assert len({e.event_id for e in results}) == 2
    assert all(e.payload == results[0].payload for e in results)


def _lines(event: object) -> list[tuple[int, int, Decimal, str]]:
    payload = event.payload  # type: ignore[attr-defined]
    return [(x["paymentOrderNo"], x["sellerNo"], x["amount"], x["status"]) for x in payload["paymentOrderList"]]


async def test_a_wallet_whose_number_is_another_sellers_number_never_receives_that_sellers_money(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_x, seller_y = IDS.next_id(), IDS.next_id()
    wallet_of_x = await add_wallet(wallet_db, seller_x, wallet_no=seller_y)  # wallet number = the other seller
    wallet_of_y = await add_wallet(wallet_db, seller_y, wallet_no=seller_x)
    order_id = unique("order")
    event = payment_confirm(order_id, [(IDS.next_id(), seller_x, "700.00", "SUCCESS")])
    async with running_app(create_app(wallet_settings(infra))) as wallet:
        await publish_orders(publisher, [event])
        await eventually(lambda: settled(wallet_db, event.event_id), bool, timeout_s=20)
        x = exact(await wallet.get(f"/api/wallets/sellers/{seller_x}", headers=as_seller(seller_x)))
        y = exact(await wallet.get(f"/api/wallets/sellers/{seller_y}", headers=as_seller(seller_y)))
    assert x == {"walletNo": wallet_of_x, "sellerNo": seller_x, "balance": Decimal("700.00"), "version": 1}
    assert y == {"walletNo": wallet_of_y, "sellerNo": seller_y, "balance": Decimal("0.00"), "version": 0}
    assert [r.wallet_no for r in await credits_of_order(wallet_db, order_id)] == [wallet_of_x]


async def test_ten_cents_plus_twenty_cents_is_credited_as_exactly_thirty_cents_and_failed_lines_are_not(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    order_id = unique("order")
    lines = [(IDS.next_id(), seller_no, "0.10", "SUCCESS"), (IDS.next_id(), seller_no, "0.20", "SUCCESS")]
    event = payment_confirm(order_id, [*lines, (IDS.next_id(), seller_no, "5.00", "FAILURE")])
    async with running_app(create_app(wallet_settings(infra))) as wallet:
        await publish_orders(publisher, [event])
        await eventually(lambda: settled(wallet_db, event.event_id), bool, timeout_s=20)
        response = await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=as_seller(seller_no))
    assert await balance(wallet_db, seller_no) == Decimal("0.30")
    assert b'"balance":0.30' in response.content
    assert [r.amount for r in await credits_of_order(wallet_db, order_id)] == [Decimal("0.10"), Decimal("0.20")]


async def test_orders_for_one_seller_settled_concurrently_add_up_exactly(
    infra: InfraSettings, wallet_db: Database
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    handler = settlement_handler(wallet_db, Outbox(Snowflake(991)), Snowflake(992), conflict_attempts=50)
    events = [payment_confirm(unique("order"), [(IDS.next_id(), seller_no, f"{i}.01", "SUCCESS")]) for i in range(12)]
    await asyncio.gather(*(handler(e) for e in events))
    row = await wallet_row(wallet_db, seller_no)
    assert (row.balance, row.version) == (sum(Decimal(f"{i}.01") for i in range(12)), 12)


async def test_a_line_for_a_seller_without_a_wallet_is_held_not_parked_and_the_others_are_credited(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    with_wallet, without_wallet = IDS.next_id(), IDS.next_id()
    await add_wallet(wallet_db, with_wallet)
    order_id = unique("order")
    event = payment_confirm(
        order_id, [(IDS.next_id(), with_wallet, "1.00", "SUCCESS"), (IDS.next_id(), without_wallet, "2.00", "SUCCESS")]
    )
    later = payment_confirm(unique("order"), [(IDS.next_id(), with_wallet, "5.00", "SUCCESS")])
    async with running_app(create_app(wallet_settings(infra))):
        await publish_orders(publisher, [event, later])
        await eventually(lambda: settled(wallet_db, later.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    held = await rows(
        wallet_db, "SELECT seller_no, amount, released_at FROM held_settlements WHERE order_id = :o", o=order_id
    )
    assert [(r.seller_no, r.amount, r.released_at) for r in held] == [(without_wallet, Decimal("2.00"), None)]
    assert [r.amount for r in await credits_of_order(wallet_db, order_id)] == [Decimal("1.00")]
    assert await balance(wallet_db, with_wallet) == Decimal("6.00")
    assert await _dlt_copies(infra, event.event_id) == []
    results = [e for e in decoded(await read_topic(infra, WALLET)) if e.payload.get("orderId") == order_id]
    assert {(e.type, str(e.payload["held"])) for e in results} == {
        ("WALLET_SETTLED", str([{"sellerNo": without_wallet, "amount": Decimal("2.00")}]))
    }


async def _dlt_copies(infra: InfraSettings, event_id: int) -> list[object]:
    records = await read_to_end(infra, f"{PAYMENT}.DLT")
    return [r for r, e in zip(records, decoded(records), strict=True) if e.event_id == event_id]


async def test_a_payment_confirm_that_keeps_failing_is_retried_until_it_succeeds_and_never_parked(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    """A money topic never parks a record for an error that isn't the record's fault — here an error the runner
    has no name for (a trigger refusing the credit), which elsewhere would be retried three times and parked."""
    caplog.set_level(logging.WARNING, logger="kiwishop.consumer")
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    event = payment_confirm(unique("order"), [(IDS.next_id(), seller_no, "3.33", "SUCCESS")])
    trigger = "refuse_333"
    async with wallet_db.engine.begin() as conn:
        await conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        await conn.execute(
            text(
                f"CREATE TRIGGER {trigger} BEFORE INSERT ON wallet_transactions FOR EACH ROW"
                " IF NEW.amount = 3.33 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a test'; END IF"
            )
        )
    try:
        async with running_app(create_app(wallet_settings(infra))):
            await publish_orders(publisher, [event])
            failing = f"event {event.event_id} (PAYMENT_CONFIRM)"

            async def attempts() -> int:
                return sum(1 for r in caplog.records if failing in r.getMessage())

            await eventually(attempts, lambda n: n >= 5, timeout_s=30)
            assert await _dlt_copies(infra, event.event_id) == []
            async with wallet_db.engine.begin() as conn:
                await conn.execute(text(f"DROP TRIGGER {trigger}"))
            await eventually(lambda: balance(wallet_db, seller_no), lambda b: b == Decimal("3.33"), timeout_s=40)
    finally:
        async with wallet_db.engine.begin() as conn:
            await conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    assert await _dlt_copies(infra, event.event_id) == []
    assert len(await credits_of_order(wallet_db, event.payload["orderId"])) == 1


async def test_a_malformed_payment_confirm_goes_to_the_dlt_at_once(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    event = payment_confirm(unique("order"), [(IDS.next_id(), seller_no, "1.005", "SUCCESS")])
    async with running_app(create_app(wallet_settings(infra))):
        await publish_orders(publisher, [event])
        parked = await eventually(lambda: _dlt_copies(infra, event.event_id), lambda found: len(found) >= 1)
    assert "PermanentError" in headers_dict(parked[0])["kiwi.dlt.error"]  # type: ignore[arg-type]
    assert await balance(wallet_db, seller_no) == Decimal("0.00")

"""Settlement of PAYMENT_CONFIRM through the running wallet app (real broker and database)."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal

import pytest

from kiwishop.contracts.topics import PAYMENT, WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import SETTLEMENT_CONSUMER, settlement_handler
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
from tests.support import eventually, headers_dict, read_topic, running_app, unique


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
        body = exact(await wallet.get("/api/wallets/sellers/1"))
    credited = await credits_of_order(wallet_db, order_id)
    assert [(r.wallet_no, r.amount, r.type, r.reference_type) for r in credited] == [
        (1, Decimal("1000.00"), "CREDIT", "PAYMENT_ORDER"),
        (1, Decimal("2000.00"), "CREDIT", "PAYMENT_ORDER"),
        (1, Decimal("3000.00"), "CREDIT", "PAYMENT_ORDER"),
    ]
    assert [r.reference_id for r in credited] == sorted(no for no, *_ in lines)
    assert {r.idempotency_key for r in credited} == {f"settle:{order_id}:{no}" for no, *_ in lines}
    # Wallet 1 may also hold credits of other tests' orders: its balance is its ledger, this order adds 6000.00.
    ledger = await rows(wallet_db, "SELECT amount, order_id FROM wallet_transactions WHERE wallet_no = 1")
    orders = {r.order_id for r in ledger}
    assert body == {"walletNo": 1, "sellerNo": 1, "balance": sum(r.amount for r in ledger), "version": len(orders)}
    assert sum(r.amount for r in ledger if r.order_id != order_id) + Decimal("6000.00") == body["balance"]
    results = [e for e in decoded(await read_topic(infra, WALLET)) if e.payload.get("orderId") == order_id]
    assert [(e.type, e.key, e.payload) for e in results] == [
        ("WALLET_SETTLED", order_id, {"orderId": order_id, "sellers": [{"sellerNo": 1, "amount": Decimal("6000.00")}]})
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
    assert len(results) == 2  # once per distinct event; identical payloads
    assert results[0].payload == results[1].payload


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
        x = exact(await wallet.get(f"/api/wallets/sellers/{seller_x}"))
        y = exact(await wallet.get(f"/api/wallets/sellers/{seller_y}"))
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
        response = await wallet.get(f"/api/wallets/sellers/{seller_no}")
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


async def test_a_seller_without_a_wallet_is_retried_then_parked_in_the_dlt_once_and_nothing_is_credited(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kiwishop.consumer")
    with_wallet, without_wallet = IDS.next_id(), IDS.next_id()
    await add_wallet(wallet_db, with_wallet)
    order_id = unique("order")
    event = payment_confirm(
        order_id, [(IDS.next_id(), with_wallet, "1.00", "SUCCESS"), (IDS.next_id(), without_wallet, "2.00", "SUCCESS")]
    )
    later = payment_confirm(unique("order"), [(IDS.next_id(), with_wallet, "5.00", "SUCCESS")])
    async with running_app(create_app(wallet_settings(infra))):
        await publish_orders(publisher, [event, later])
        await eventually(lambda: settled(wallet_db, later.event_id), bool, timeout_s=20)  # the consumer goes on
        parked = await eventually(lambda: _dlt_copies(infra, event.event_id), lambda found: len(found) >= 1)
    assert len(parked) == 1
    headers = headers_dict(parked[0])
    assert "WalletMissingError" in headers["kiwi.dlt.error"]
    assert headers["kiwi.dlt.original.topic"] == PAYMENT
    assert headers["kiwi.dlt.consumer.group"] == "wallet-settlement"
    retries = [r for r in caplog.records if f"event {event.event_id} failed" in r.getMessage()]
    assert len(retries) == 3
    assert await credits_of_order(wallet_db, order_id) == []
    assert await balance(wallet_db, with_wallet) == Decimal("5.00")
    assert not await settled(wallet_db, event.event_id)


async def _dlt_copies(infra: InfraSettings, event_id: int) -> list[object]:
    records = await read_topic(infra, f"{PAYMENT}.DLT", idle_s=0.3)
    return [r for r, e in zip(records, decoded(records), strict=True) if e.event_id == event_id]


async def test_a_wallet_created_while_the_order_is_being_retried_receives_the_credit(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="kiwishop.consumer")
    seller_no = IDS.next_id()
    event = payment_confirm(unique("order"), [(IDS.next_id(), seller_no, "3.00", "SUCCESS")])
    settings = wallet_settings(infra, consumer_retry_backoff_s=(1.0, 1.0, 1.0))
    async with running_app(create_app(settings)):
        await publish_orders(publisher, [event])
        failed_once = f"event {event.event_id} failed (attempt 1)"

        async def first_failure() -> bool:
            return any(failed_once in r.getMessage() for r in caplog.records)

        await eventually(first_failure, bool, timeout_s=20)
        await add_wallet(wallet_db, seller_no)
        await eventually(lambda: settled(wallet_db, event.event_id), bool, timeout_s=20)
    assert await balance(wallet_db, seller_no) == Decimal("3.00")


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

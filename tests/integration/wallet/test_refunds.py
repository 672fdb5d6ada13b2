"""PAYMENT_CANCELED through the running wallet app (real broker and database): each canceled line is one DEBIT
from its seller's wallet, once, and the API shows the DEBIT rows and the balance as they are — below zero too."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from kiwishop.contracts.topics import PAYMENT
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import refund_handler, settlement_handler
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER
from tests.integration.seller_wallet.support import (
    IDS,
    Line,
    add_wallet,
    balance,
    debits_of_order,
    decoded,
    exact,
    payment_canceled,
    payment_confirm,
    processed,
    publish_orders,
    rows,
    wallet_row,
    wallet_settings,
)
from tests.support import as_seller, eventually, headers_dict, read_to_end, running_app, unique


async def handled(db: Database, event_id: int) -> bool:
    return await processed(db, SETTLEMENT_CONSUMER, event_id)


async def ledger_agrees(db: Database, seller_no: int) -> bool:
    """Σ CREDIT − Σ DEBIT of the seller's wallet = its balance."""
    found = await rows(
        db,
        "SELECT w.balance, COALESCE(SUM(CASE t.type WHEN 'CREDIT' THEN t.amount ELSE -t.amount END), 0) AS net"
        " FROM wallets w LEFT JOIN wallet_transactions t ON t.wallet_no = w.wallet_no WHERE w.seller_no = :s"
        " GROUP BY w.wallet_no, w.balance",
        s=seller_no,
    )
    return bool(found[0].balance == found[0].net)


async def dlt_copies(infra: InfraSettings, event_id: int) -> list[object]:
    records = await read_to_end(infra, f"{PAYMENT}.DLT")
    return [r for r, e in zip(records, decoded(records), strict=True) if e.event_id == event_id]


def order_of(seller_no: int, *amounts: str) -> list[Line]:
    return [(IDS.next_id(), seller_no, amount, "SUCCESS") for amount in amounts]


async def test_a_partial_cancel_debits_its_line_once_and_canceling_the_rest_debits_the_order_total(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    wallet_no = await add_wallet(wallet_db, seller_no)
    order_id = unique("order")
    lines = order_of(seller_no, "1000.00", "2000.00", "3000.00")
    nos = [no for no, *_ in lines]
    first = payment_canceled(order_id, lines, [nos[1]])
    again = payment_canceled(order_id, lines, [nos[1]])  # the same cancel under a new event id
    rest = payment_canceled(order_id, lines, [nos[0], nos[2]], cancel_no=2)
    async with running_app(create_app(wallet_settings(infra))) as wallet:
        await publish_orders(publisher, [payment_confirm(order_id, lines), first])
        await eventually(lambda: handled(wallet_db, first.event_id), bool, timeout_s=20)
        assert await balance(wallet_db, seller_no) == Decimal("4000.00")
        assert [tuple(r) for r in await debits_of_order(wallet_db, order_id)] == [
            (wallet_no, Decimal("2000.00"), "DEBIT", nos[1], "PAYMENT_ORDER", order_id, f"debit:{order_id}:{nos[1]}")
        ]
        await publish_orders(publisher, [first, again])  # one key: one partition, in this order
        await eventually(lambda: handled(wallet_db, again.event_id), bool, timeout_s=20)
        row = await wallet_row(wallet_db, seller_no)
        assert (row.balance, row.version, len(await debits_of_order(wallet_db, order_id))) == (
            Decimal("4000.00"), 2, 1,
        )  # fmt: skip
        await publish_orders(publisher, [rest])
        await eventually(lambda: handled(wallet_db, rest.event_id), bool, timeout_s=20)
        shown = exact(await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=as_seller(seller_no)))
        page = exact(await wallet.get(f"/api/wallets/sellers/{seller_no}/transactions", headers=as_seller(seller_no)))
    assert shown == {"walletNo": wallet_no, "sellerNo": seller_no, "balance": Decimal("0.00"), "version": 3}
    debits = await debits_of_order(wallet_db, order_id)
    assert sum(r.amount for r in debits) == Decimal("6000.00")
    assert sorted(r.reference_id for r in debits) == sorted(nos)
    listed = page["transactions"]
    assert [(t["type"], t["amount"]) for t in listed[:3]] == [
        ("DEBIT", Decimal("3000.00")), ("DEBIT", Decimal("1000.00")), ("DEBIT", Decimal("2000.00")),
    ]  # fmt: skip  # newest first, amounts as written: positive, the type says which way
    assert [t["type"] for t in listed[3:]] == ["CREDIT"] * 3
    assert {(t["referenceType"], t["orderId"]) for t in listed} == {("PAYMENT_ORDER", order_id)}
    assert set(listed[0]) == {
        "walletTransactionNo", "walletNo", "amount", "type", "referenceType", "referenceId", "orderId", "createdAt",
    }  # fmt: skip
    assert await ledger_agrees(wallet_db, seller_no)
    assert [await dlt_copies(infra, e.event_id) for e in (first, again, rest)] == [[], [], []]


async def test_a_balance_below_zero_is_kept_and_shown_as_it_is(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    """A cancel that overtook its order's PAYMENT_CONFIRM (the outbox may publish them out of order) debits at
    once: the seller owes the money until the confirm credits the line."""
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    earlier = order_of(seller_no, "500.00")
    await settlement_handler(wallet_db, Outbox(Snowflake(981)), Snowflake(982))(payment_confirm(unique("o"), earlier))
    order_id = unique("order")
    lines = order_of(seller_no, "800.00")
    cancel = payment_canceled(order_id, lines, [lines[0][0]])
    sale = payment_confirm(order_id, lines)
    async with running_app(create_app(wallet_settings(infra))) as wallet:
        await publish_orders(publisher, [cancel])
        await eventually(lambda: handled(wallet_db, cancel.event_id), bool, timeout_s=20)
        owing = await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=as_seller(seller_no))
        await publish_orders(publisher, [sale])
        await eventually(lambda: handled(wallet_db, sale.event_id), bool, timeout_s=20)
        settled = exact(await wallet.get(f"/api/wallets/sellers/{seller_no}", headers=as_seller(seller_no)))
    assert exact(owing)["balance"] == Decimal("-300.00")
    assert b'"balance":-300.00' in owing.content
    assert (settled["balance"], settled["version"]) == (Decimal("500.00"), 3)
    assert await ledger_agrees(wallet_db, seller_no)


async def test_an_invalid_cancel_or_one_that_disagrees_with_the_credit_is_parked_at_once_and_debits_nothing(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    order_id = unique("order")
    lines = order_of(seller_no, "1000.00")
    no = lines[0][0]
    bad_sum = payment_canceled(order_id, lines, [no], cancelAmount=Decimal("999.00"))
    no_lines = payment_canceled(order_id, lines, [no], lines=[])
    other_amount = payment_canceled(order_id, [(no, seller_no, "10.00", "SUCCESS")], [no])  # credited 1000.00
    async with running_app(create_app(wallet_settings(infra))):
        await publish_orders(publisher, [payment_confirm(order_id, lines), bad_sum, no_lines, other_amount])
        for event in (bad_sum, no_lines, other_amount):
            parked = await eventually(lambda e=event: dlt_copies(infra, e.event_id), lambda f: len(f) >= 1)
            assert "PermanentError" in headers_dict(parked[0])["kiwi.dlt.error"]  # type: ignore[arg-type]
    assert await balance(wallet_db, seller_no) == Decimal("1000.00")
    assert await debits_of_order(wallet_db, order_id) == []


async def test_concurrent_deliveries_of_one_cancel_debit_once_and_cancels_of_many_orders_add_up_exactly(
    wallet_db: Database,
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    settle = settlement_handler(wallet_db, Outbox(Snowflake(983)), Snowflake(984))
    refund = refund_handler(wallet_db, Outbox(Snowflake(985)), Snowflake(986), conflict_attempts=50)
    orders = [(unique("order"), order_of(seller_no, f"{i}.01", "1.00")) for i in range(8)]
    for order_id, lines in orders:
        await settle(payment_confirm(order_id, lines))
    one_id, one_lines = orders[0]
    copies = [payment_canceled(one_id, one_lines, [no for no, *_ in one_lines]) for _ in range(4)]
    await asyncio.gather(*(refund(e) for e in copies))
    assert len(await debits_of_order(wallet_db, one_id)) == 2
    await asyncio.gather(*(refund(payment_canceled(o, ls, [no for no, *_ in ls])) for o, ls in orders[1:]))
    row = await wallet_row(wallet_db, seller_no)
    assert (row.balance, row.version) == (Decimal("0.00"), 16)  # 8 credits, 8 debits: one version step each
    assert await ledger_agrees(wallet_db, seller_no)

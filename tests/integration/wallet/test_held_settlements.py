"""Money for a seller whose wallet doesn't exist yet is held, then credited exactly once when the wallet
arrives — through the registration saga or any other way — and never parked in a dead-letter topic."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from kiwishop.contracts.topics import PAYMENT, SELLER
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import settlement_handler
from kiwishop.wallet.repository import SqlLedger
from kiwishop.wallet.workers import HeldSettlementSweeper
from tests.integration.seller_wallet.support import (
    IDS,
    add_wallet,
    balance,
    credits_of_order,
    decoded,
    envelope,
    outbox_drained,
    payment_confirm,
    publish,
    publish_orders,
    rows,
    wallet_settings,
)
from tests.support import eventually, read_to_end, running_app, unique


async def open_holds(db: Database, seller_no: int) -> int:
    found = await rows(
        db, "SELECT COUNT(*) AS n FROM held_settlements WHERE seller_no = :s AND released_at IS NULL", s=seller_no
    )
    return int(found[0].n)


async def dead_letters_of(infra: InfraSettings, event_id: int) -> int:
    parked = decoded(await read_to_end(infra, f"{PAYMENT}.DLT"))
    return sum(1 for e in parked if e.event_id == event_id)


async def test_a_wallet_created_by_the_saga_after_the_sale_is_credited_once_and_nothing_is_parked(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    order_id = unique("order")
    sale = payment_confirm(
        order_id, [(IDS.next_id(), seller_no, "1500.00", "SUCCESS"), (IDS.next_id(), seller_no, "500.00", "SUCCESS")]
    )
    async with running_app(create_app(wallet_settings(infra, held_sweep_interval_s=60.0))):
        await publish_orders(publisher, [sale, sale])  # the sale, and a repeat of it
        await eventually(lambda: open_holds(wallet_db, seller_no), lambda n: n == 2, timeout_s=20)
        await asyncio.sleep(1.0)  # the wallet arrives later (the drills use 20 s)
        request = envelope(
            "WALLET_CREATE_REQUESTED", str(seller_no), sagaId=IDS.next_id(), sellerNo=seller_no, sellerId=unique("s")
        )
        await publish(publisher, SELLER, [request])
        await eventually(lambda: balance(wallet_db, seller_no), lambda b: b == Decimal("2000.00"), timeout_s=20)
        await publish_orders(publisher, [sale])  # and once more after the wallet exists
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    assert await balance(wallet_db, seller_no) == Decimal("2000.00")
    assert sorted(r.amount for r in await credits_of_order(wallet_db, order_id)) == [
        Decimal("500.00"),
        Decimal("1500.00"),
    ]
    assert await open_holds(wallet_db, seller_no) == 0
    assert await dead_letters_of(infra, sale.event_id) == 0


async def test_a_wallet_that_appears_any_other_way_is_found_by_the_sweeper_and_credited_once(
    wallet_db: Database,
) -> None:
    seller_no = IDS.next_id()
    handler = settlement_handler(wallet_db, Outbox(Snowflake(993)), Snowflake(994))
    sales = [payment_confirm(unique("order"), [(IDS.next_id(), seller_no, f"{i}00.00", "SUCCESS")]) for i in (1, 2)]
    for sale in sales:
        await handler(sale)
    assert await open_holds(wallet_db, seller_no) == 2
    sweeper = HeldSettlementSweeper(wallet_db, SqlLedger(wallet_db, Outbox(Snowflake(995)), Snowflake(996)))
    assert await sweeper.sweep_once() == 0 or await open_holds(wallet_db, seller_no) == 2  # no wallet: nothing moves
    assert await open_holds(wallet_db, seller_no) == 2
    await add_wallet(wallet_db, seller_no)
    await asyncio.gather(sweeper.sweep_once(), sweeper.sweep_once())  # two sweeps at once credit once
    await sweeper.sweep_once()
    assert await balance(wallet_db, seller_no) == Decimal("300.00")
    assert await open_holds(wallet_db, seller_no) == 0
    await handler(sales[0])  # a late repeat of a released sale credits nothing more
    assert await balance(wallet_db, seller_no) == Decimal("300.00")
    for sale in sales:
        assert len(await credits_of_order(wallet_db, sale.payload["orderId"])) == 1

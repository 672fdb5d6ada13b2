"""A cancel of lines never credited (real database): a line held for a seller without a wallet is released
without a credit and never credited later — by the sweeper, the saga's wallet or a repeated PAYMENT_CONFIRM —
and a cancel that overtook its PAYMENT_CONFIRM for such a seller is held as canceled, so the confirm never
credits it."""

from __future__ import annotations

from decimal import Decimal

from kiwishop.contracts.topics import SELLER
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import refund_handler, settlement_handler
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER
from kiwishop.wallet.repository import SqlLedger
from kiwishop.wallet.workers import HeldSettlementSweeper
from tests.integration.seller_wallet.support import (
    IDS,
    add_wallet,
    balance,
    credits_of_order,
    debits_of_order,
    envelope,
    payment_canceled,
    payment_confirm,
    processed,
    publish,
    publish_orders,
    rows,
    wallet_settings,
)
from tests.support import eventually, running_app, unique


async def holds(db: Database, order_id: str) -> list[tuple[int, bool, bool]]:
    """The order's held lines: (paymentOrderNo, released, canceled)."""
    found = await rows(
        db,
        "SELECT payment_order_no, released_at, canceled_at FROM held_settlements WHERE order_id = :o"
        " ORDER BY payment_order_no",
        o=order_id,
    )
    return [(r.payment_order_no, r.released_at is not None, r.canceled_at is not None) for r in found]


async def test_a_held_line_canceled_is_never_credited_and_the_sellers_other_lines_are(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    order_id = unique("order")
    kept, gone = IDS.next_id(), IDS.next_id()
    lines = [(kept, seller_no, "1500.00", "SUCCESS"), (gone, seller_no, "500.00", "SUCCESS")]
    sale = payment_confirm(order_id, lines)
    cancel = payment_canceled(order_id, lines, [gone])
    async with running_app(create_app(wallet_settings(infra, held_sweep_interval_s=0.2))):
        await publish_orders(publisher, [sale, cancel])
        await eventually(lambda: processed(wallet_db, SETTLEMENT_CONSUMER, cancel.event_id), bool, timeout_s=20)
        assert await holds(wallet_db, order_id) == [(kept, False, False), (gone, True, True)]
        request = envelope(
            "WALLET_CREATE_REQUESTED", str(seller_no), sagaId=IDS.next_id(), sellerNo=seller_no, sellerId=unique("s")
        )
        await publish(publisher, SELLER, [request])  # the wallet arrives: the line still held is credited
        await eventually(lambda: balance(wallet_db, seller_no), lambda b: b == Decimal("1500.00"), timeout_s=20)
        again = payment_confirm(order_id, lines)  # order sending the sale again, now that the wallet exists
        await publish_orders(publisher, [sale, again, cancel])
        await eventually(lambda: processed(wallet_db, SETTLEMENT_CONSUMER, again.event_id), bool, timeout_s=20)
    assert await balance(wallet_db, seller_no) == Decimal("1500.00")
    assert [(r.reference_id, r.type) for r in await credits_of_order(wallet_db, order_id)] == [(kept, "CREDIT")]
    assert await holds(wallet_db, order_id) == [(kept, True, False), (gone, True, True)]


async def test_a_held_line_canceled_after_its_wallet_appeared_is_not_swept_and_a_released_one_is_debited(
    wallet_db: Database,
) -> None:
    seller_no = IDS.next_id()
    settle = settlement_handler(wallet_db, Outbox(Snowflake(987)), Snowflake(988))
    refund = refund_handler(wallet_db, Outbox(Snowflake(987)), Snowflake(988))
    sweeper = HeldSettlementSweeper(wallet_db, SqlLedger(wallet_db, Outbox(Snowflake(989)), Snowflake(980)))
    swept, canceled = unique("order"), unique("order")
    swept_lines = [(IDS.next_id(), seller_no, "70.00", "SUCCESS")]
    canceled_lines = [(IDS.next_id(), seller_no, "30.00", "SUCCESS")]
    await settle(payment_confirm(swept, swept_lines))
    await settle(payment_confirm(canceled, canceled_lines))
    wallet_no = await add_wallet(wallet_db, seller_no)  # the sweeper has not run yet
    await refund(payment_canceled(canceled, canceled_lines, [canceled_lines[0][0]]))
    await sweeper.sweep_once()
    assert await balance(wallet_db, seller_no) == Decimal("70.00")
    assert (await holds(wallet_db, canceled), await debits_of_order(wallet_db, canceled)) == (
        [(canceled_lines[0][0], True, True)], [],
    )  # fmt: skip
    await refund(payment_canceled(swept, swept_lines, [swept_lines[0][0]]))  # credited by the sweeper: debited
    assert [(r.wallet_no, r.amount) for r in await debits_of_order(wallet_db, swept)] == [(wallet_no, Decimal("70.00"))]
    assert await balance(wallet_db, seller_no) == Decimal("0.00")


async def test_a_cancel_that_overtook_its_confirm_for_a_seller_without_a_wallet_is_never_held_nor_credited(
    wallet_db: Database,
) -> None:
    seller_no, other = IDS.next_id(), IDS.next_id()
    await add_wallet(wallet_db, other)
    settle = settlement_handler(wallet_db, Outbox(Snowflake(977)), Snowflake(978))
    refund = refund_handler(wallet_db, Outbox(Snowflake(977)), Snowflake(978))
    order_id = unique("order")
    no = IDS.next_id()
    lines = [(no, seller_no, "250.00", "SUCCESS"), (IDS.next_id(), other, "50.00", "SUCCESS")]
    cancel = payment_canceled(order_id, lines, [no])
    await refund(cancel)
    await refund(cancel)  # a redelivery changes nothing
    assert await holds(wallet_db, order_id) == [(no, True, True)]
    await settle(payment_confirm(order_id, lines))  # no wallet yet: not held either
    assert await holds(wallet_db, order_id) == [(no, True, True)]
    await add_wallet(wallet_db, seller_no)
    await settle(payment_confirm(order_id, lines))  # a wallet now, and a new delivery: still not credited
    assert (await balance(wallet_db, seller_no), await balance(wallet_db, other)) == (Decimal("0.00"), Decimal("50.00"))
    assert [r.type for r in await credits_of_order(wallet_db, order_id)] == ["CREDIT"]  # the other seller's line
    assert await debits_of_order(wallet_db, order_id) == []

"""The wallet's settlement result marks the order settled (is_wallet_done), once, idempotently."""

from __future__ import annotations

import httpx
from aiokafka import ConsumerRecord
from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.support import consumed_past, headers_dict, read_to_end


async def wallet_done(db: Database, order_id: str) -> bool:
    async with db.engine.connect() as conn:
        value = (
            await conn.execute(text("SELECT is_wallet_done FROM payment_events WHERE order_id = :o"), {"o": order_id})
        ).scalar_one()
    return bool(value)


def event_id(record: ConsumerRecord[bytes, bytes]) -> int:
    return Envelope.from_record(record.key, record.value).event_id


async def publish(
    infra: InfraSettings, topic: str, event_id: int, event_type: str, payload: dict[str, object], key: str
) -> None:
    publisher = KafkaPublisher(infra)
    try:
        env = Envelope(event_id=event_id, type=event_type, payload=payload, key=key)
        await publisher.send(OutgoingRecord(topic, key, env.to_json()))
    finally:
        await publisher.close()


async def test_wallet_settled_sets_is_wallet_done_and_other_wallet_events_are_ignored(
    paying_order: httpx.AsyncClient,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    created = await checkout(paying_order, [1])
    key = await emulator.authorise(created["orderId"], created["amount"])
    assert (await confirm(paying_order, key, created["orderId"], created["amount"])).status_code == 200
    assert not await wallet_done(order_db, created["orderId"])
    base = Snowflake(130).next_id()
    await publish(
        infra,
        order_topics.wallet,
        base,
        "WALLET_CREATED",
        {"sagaId": "s", "sellerNo": 5, "walletNo": 6, "success": True},
        "5",
    )
    for _ in range(2):  # a duplicate delivery changes nothing more
        settled = {"orderId": created["orderId"], "sellers": [{"sellerNo": 1, "amount": 1000}], "held": []}
        await publish(infra, order_topics.wallet, base + 1, "WALLET_SETTLED", settled, created["orderId"])
    deliveries = [r for r in await read_to_end(infra, order_topics.wallet) if event_id(r) == base + 1]
    assert len(deliveries) == 2
    # Positive evidence that the duplicate was consumed (handled, skipped or parked), not a pause: order's group
    # committed an offset past it, and the runner commits only after the handler's transaction (or the parking).
    await consumed_past(infra, f"{order_topics.wallet}-group", deliveries[-1])
    assert await wallet_done(order_db, created["orderId"])
    async with order_db.engine.connect() as conn:
        processed = (
            await conn.execute(
                text("SELECT COUNT(*) FROM processed_messages WHERE event_id IN (:a, :b)"), {"a": base, "b": base + 1}
            )
        ).scalar_one()
    assert processed == 1
    assert await read_to_end(infra, f"{order_topics.wallet}.DLT") == []  # neither delivery was parked


async def test_a_settlement_for_an_unknown_order_is_parked_in_the_dlt(
    paying_order: httpx.AsyncClient, infra: InfraSettings, order_topics: OrderTopics
) -> None:
    await publish(
        infra,
        order_topics.wallet,
        Snowflake(131).next_id(),
        "WALLET_SETTLED",
        {"orderId": "no-such-order-xyz"},
        "no-such-order-xyz",
    )
    (sent,) = [r for r in await read_to_end(infra, order_topics.wallet) if r.key == b"no-such-order-xyz"]
    await consumed_past(infra, f"{order_topics.wallet}-group", sent)  # parked before its offset is committed
    parked = [r for r in await read_to_end(infra, f"{order_topics.wallet}.DLT") if r.key == b"no-such-order-xyz"]
    assert len(parked) == 1
    assert "not a paid order" in headers_dict(parked[0])["kiwi.dlt.error"]

"""Settlement heals itself: order keeps PAYMENT_CONFIRM moving (same eventId) until wallet answers."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, checkout, confirm, published_confirms
from tests.support import eventually, read_topic, running_app


async def confirm_records(infra: InfraSettings, topic: str, order_id: str, expect: int) -> list[tuple[bytes, Envelope]]:
    records = await read_topic(infra, topic, expect=expect, idle_s=0.5)
    return [(r.value, Envelope.from_record(r.key, r.value)) for r in records if r.key == order_id.encode()]


async def settle_state(db: Database, order_id: str) -> tuple[object, int, bool]:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT settle_check_at, republish_count, is_wallet_done FROM payment_events WHERE order_id = :o"),
                {"o": order_id},
            )
        ).one()
    return row.settle_check_at, int(row.republish_count), bool(row.is_wallet_done)


async def test_an_unsettled_paid_order_publishes_the_same_payment_confirm_again_until_wallet_answers(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    settings = order_settings(
        toss_api_url=emulator_url, settlement_grace_s=0.5, settlement_republish_max_s=0.5, settlement_interval_s=0.1
    )
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [1, 2])
        key = await emulator.authorise(created["orderId"], created["amount"])
        assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 200
        order_id = created["orderId"]
        # Nobody answers (the record was lost, parked, or wallet is stalled): it goes out again and again.
        found = await eventually(
            lambda: confirm_records(infra, order_topics.payment, order_id, expect=3), lambda r: len(r) >= 3,
            timeout_s=30,
        )  # fmt: skip
        assert len({value for value, _ in found}) == 1  # the very same bytes: same eventId, same payload
        # Retention removed the outbox row meanwhile: the same event is rebuilt from the order's rows.
        async with order_db.uow() as uow:
            await uow.conn.execute(text("DELETE FROM outbox WHERE message_key = :o"), {"o": order_id})
            await uow.commit()
        rebuilt = await eventually(
            lambda: confirm_records(infra, order_topics.payment, order_id, expect=len(found) + 1),
            lambda r: len(r) > len(found), timeout_s=30,
        )  # fmt: skip
        first, last = found[0][1], rebuilt[-1][1]
        assert (last.event_id, last.type, last.payload) == (first.event_id, first.type, first.payload)
        # Wallet answers: the order is settled and nothing is scheduled any more.
        publisher = KafkaPublisher(infra)
        try:
            payload = {"orderId": order_id, "sellers": []}
            settled = Envelope(Snowflake(133).next_id(), "WALLET_SETTLED", payload, order_id)
            await publisher.send(OutgoingRecord(order_topics.wallet, order_id, settled.to_json()))
        finally:
            await publisher.close()
        state = await eventually(lambda: settle_state(order_db, order_id), lambda s: s[2], timeout_s=30)
    check_at, republished, _ = state
    assert check_at is None
    assert republished >= 3
    assert await settle_state(order_db, order_id) == (None, republished, True)


async def test_a_settled_order_is_never_published_again_even_when_its_check_comes_due(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    app = create_app(order_settings(toss_api_url=emulator_url, settlement_grace_s=60.0))
    async with running_app(app) as order:
        created = await checkout(order, [3])
        order_id = created["orderId"]
        key = await emulator.authorise(order_id, created["amount"])
        assert (await confirm(order, key, order_id, created["amount"])).status_code == 200
        async with order_db.uow() as uow:  # settled by wallet, and (by a race) its check is due anyway
            await uow.conn.execute(
                text(
                    "UPDATE payment_events SET is_wallet_done = 1,"
                    " settle_check_at = UTC_TIMESTAMP(3) - INTERVAL 1 SECOND WHERE order_id = :o"
                ),
                {"o": order_id},
            )
            await uow.commit()
        watch = app.state.settlement
        await watch.check_once()
        assert await watch.republish(order_id) == 0
    assert await settle_state(order_db, order_id) == (None, 0, True)
    # every outbox row of the order published (a re-sent one would be made due again), then the topic to its end
    assert len(await published_confirms(infra, order_db, order_topics.payment, order_id)) == 1

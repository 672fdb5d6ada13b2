"""Consumer lag from the real broker (ListGroups, committed offsets against the high watermark), reconcile run
from the console (one report, in the audit), and the console's /metrics filled by its collection loop."""

from __future__ import annotations

import time

import httpx
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from kiwishop.console.app import create_app as create_console
from kiwishop.contracts.topics import all_topics
from kiwishop.order.migrations import MIGRATIONS as ORDER_MIGRATIONS
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, ensure_topics
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import SERVICE as WALLET
from tests.integration.console.conftest import ConsoleFactory, ops_actor, overview
from tests.support import as_ops, eventually, running_app, tokens, unique

IDS = Snowflake(988)


async def consume_and_commit(infra: InfraSettings, group: str, topic: str, count: int) -> None:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=infra.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest", session_timeout_ms=2000, heartbeat_interval_ms=500,
    )  # fmt: skip
    await consumer.start()
    try:
        taken, deadline = 0, time.monotonic() + 30
        while taken < count:
            assert time.monotonic() < deadline, f"read {taken} of {count}"
            batch = await consumer.getmany(timeout_ms=200, max_records=count - taken)
            taken += sum(len(records) for records in batch.values())
        await consumer.commit()
    finally:
        await consumer.stop()


async def test_the_lag_of_a_group_is_what_it_has_not_consumed_and_a_group_never_seen_lags_by_everything(
    infra: InfraSettings, console_settings: ConsoleFactory
) -> None:
    topic, group, absent = unique("con-lag"), unique("con-lag-group"), unique("con-never")
    await ensure_topics(infra, [topic], partitions=1)
    publisher = KafkaPublisher(infra)
    try:
        errors = await publisher.send_many([OutgoingRecord(topic, "k", f"v{i}".encode()) for i in range(5)])
    finally:
        await publisher.close()
    assert errors == [None] * 5
    await consume_and_commit(infra, group, topic, 2)

    settings = console_settings(consumer_groups={group: (topic,), absent: (topic,)})
    async with running_app(create_console(settings)) as console:
        lags = {(c["group"], c["topic"]): c for c in (await overview(console))["consumers"]}
    assert (lags[group, topic]["lag"], lags[group, topic]["joined"]) == (3, True)
    assert (lags[absent, topic]["lag"], lags[absent, topic]["joined"]) == (5, False)


async def schemas(infra: InfraSettings) -> tuple[str, str]:
    order_db, wallet_db = unique("con_order").replace("-", "_"), unique("con_wallet").replace("-", "_")
    await migrate(infra, order_db, ORDER_MIGRATIONS)
    await migrate(infra, wallet_db, WALLET.migrations)
    await ensure_topics(infra, all_topics())
    return order_db, wallet_db


async def quarantine_an_order(infra: InfraSettings, order_db: str) -> str:
    order_id, event_no, now = unique("con-order"), IDS.next_id(), utcnow()
    db = Database.connect(infra, order_db)
    try:
        async with db.uow() as uow:
            await uow.conn.execute(text(
                "INSERT INTO payment_events (payment_event_no, member_no, order_id, type, order_name, total_amount,"
                " created_at, updated_at) VALUES (:no, 1, :id, 'NORMAL', 'x', 1000, :now, :now)"
            ), {"no": event_no, "id": order_id, "now": now})  # fmt: skip
            await uow.conn.execute(text(
                "INSERT INTO payment_orders (payment_order_no, payment_event_no, product_no, seller_no, order_id,"
                " product_name, amount, payment_order_status, created_at, updated_at)"
                " VALUES (:line, :no, 1, 1, :id, 'x', 1000, 'QUARANTINED', :now, :now)"
            ), {"line": IDS.next_id(), "no": event_no, "id": order_id, "now": now})  # fmt: skip
            await uow.commit()
    finally:
        await db.close()
    return order_id


async def test_reconcile_from_the_console_reports_the_discrepancy_keeps_the_report_and_audits_the_run(
    infra: InfraSettings, console_settings: ConsoleFactory
) -> None:
    order_db, wallet_db = await schemas(infra)
    order_id = await quarantine_an_order(infra, order_db)
    settings = console_settings(order_db_name=order_db, wallet_db_name=wallet_db)
    async with running_app(create_console(settings)) as console:
        response = await console.post("/api/ops/reconcile", headers=as_ops(), timeout=120)
        assert response.status_code == 200, response.text
        report = response.json()
        assert (report["clean"], report["discrepancies"]) == (False, 1)
        assert order_id in report["problems"][0]
        assert "QUARANTINED" in report["problems"][0]
        assert "reconcile: 1 discrepancies" in report["text"]
        assert (await overview(console))["reconcile"]["runNo"] == report["runNo"]
        page = await console.get("/reconcile", headers={"Cookie": f"kiwi_session={tokens().ops()}"})
        assert order_id in page.text
        entries = (await console.get("/api/ops/audit", headers=as_ops())).json()["entries"]
    (entry,) = [e for e in entries if e["auditNo"] == report["auditNo"]]
    assert (entry["action"], entry["actor"], entry["outcome"]) == ("reconcile", ops_actor(), "ok")
    assert entry["detail"]["answer"] == {"runNo": report["runNo"], "clean": False, "discrepancies": 1}


async def test_the_collection_loop_fills_the_metrics_with_the_service_credential(
    infra: InfraSettings, console_settings: ConsoleFactory, likes: tuple[str, Database]
) -> None:
    topic, group = unique("con-metrics"), unique("con-metrics-group")
    await ensure_topics(infra, [topic], partitions=1)
    settings = console_settings(
        service_token=tokens().ops(), collect_interval_s=0.2, consumer_groups={group: (topic,)},
        catalog_like_url=likes[0],
    )  # fmt: skip

    async def metrics(client: httpx.AsyncClient) -> str:
        return (await client.get("/metrics")).text

    async with running_app(create_console(settings)) as console:
        text_ = await eventually(lambda: metrics(console), lambda t: f'group="{group}"' in t, timeout_s=60)
    assert f'kiwi_consumer_group_lag{{group="{group}",topic="{topic}"}} 0.0' in text_
    assert 'kiwi_service_ready{service="order"} 0.0' in text_
    assert "kiwi_payments_quarantined NaN" in text_  # order is down here: unknown, not zero
    assert 'kiwi_outbox_backlog_rows{service="catalog-like"} 0.0' in text_  # asked with the service token
    assert 'kiwi_service_ready{service="catalog-like"} 1.0' in text_
    assert 'kiwi_outbox_backlog_rows{service="wallet"}' not in text_  # wallet is down: no series

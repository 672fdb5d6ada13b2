"""Dead letters through the console, on records real consumers parked: the acceptance line — a poison record on
kiwi-shop-product-like, parked by hot-catalog's consumer (the one group that reads that topic), shows in the
console; redriven through it, it is parked again exactly once, and the audit has the action with the operator —
and a whole topic redriven at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from kiwishop.contracts.topics import PRODUCT_LIKE
from kiwishop.hot_catalog.app import create_app as create_hot
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord, ensure_topics
from kiwishop.platform.settings import InfraSettings
from tests.integration.console.conftest import ops_actor
from tests.integration.ops.parking import event, new_topic, park
from tests.support import as_ops, consumed_past, dead_url, eventually, headers_dict, read_to_end, running_app, unique

DLT = f"{PRODUCT_LIKE}.DLT"


@pytest.fixture
async def hot_catalog(infra: InfraSettings) -> AsyncIterator[str]:
    """hot-catalog reading the real kiwi-shop-product-like, in a group of its own; its consumer group."""
    tag = unique("con-hot")
    await ensure_topics(infra, [PRODUCT_LIKE, DLT])
    settings = HotCatalogSettings(
        infra=infra, catalog_url=dead_url(), key_prefix=tag, consumer_group=f"{tag}-group", like_topic=PRODUCT_LIKE,
        review_topic=f"{tag}-review", payment_topic=f"{tag}-payment", consumer_retry_backoff_s=(0.05,),
    )  # fmt: skip
    async with running_app(create_hot(settings)):
        yield settings.consumer_group


async def parked_with(infra: InfraSettings, key: str) -> list[ConsumerRecord[bytes, bytes]]:
    return [r for r in await read_to_end(infra, DLT) if r.key == key.encode()]


async def listed(console: httpx.AsyncClient, topic: str, key: str) -> list[dict[str, Any]]:
    response = await console.get(f"/api/ops/dead-letters/{topic}", headers=as_ops(), timeout=60)
    assert response.status_code == 200, response.text
    return [r for r in response.json()["records"] if r["key"] == key]


async def test_a_poison_like_record_shows_in_the_console_and_redriven_is_parked_again_exactly_once(
    infra: InfraSettings, console: httpx.AsyncClient, hot_catalog: str
) -> None:
    key = unique("poison-like")
    publisher = KafkaPublisher(infra)
    try:
        (error,) = await publisher.send_many([OutgoingRecord(PRODUCT_LIKE, key, b"\xff\xfe not json {")])
    finally:
        await publisher.close()
    assert error is None

    (shown,) = await eventually(lambda: listed(console, PRODUCT_LIKE, key), lambda found: len(found) == 1,
                                timeout_s=60, interval_s=0.5)  # fmt: skip
    assert (shown["group"], shown["redriven"], shown["originalTopic"]) == (hot_catalog, False, PRODUCT_LIKE)
    assert shown["error"].startswith("EnvelopeError")
    names = {h["name"] for h in shown["headers"]}
    assert {"kiwi.dlt.error", "kiwi.dlt.original.topic", "kiwi.dlt.consumer.group"} <= names
    assert "not json" in shown["payload"]
    counts = {d["topic"]: d for d in (await overview_of(console))["deadLetters"]}
    assert counts[DLT]["pending"] >= 1

    position = {"partition": shown["partition"], "offset": shown["offset"]}
    redriven = await console.post(f"/api/ops/dead-letters/{PRODUCT_LIKE}/redrive", json=position, headers=as_ops())
    assert redriven.status_code == 200, redriven.text
    assert (redriven.json()["redriven"], redriven.json()["toTopics"]) == (1, {PRODUCT_LIKE: 1})

    copies = await eventually(lambda: parked_with(infra, key), lambda found: len(found) == 2, timeout_s=60)
    again = headers_dict(copies[1])
    assert (again["kiwi.redrive.count"], again["kiwi.dlt.consumer.group"]) == ("1", hot_catalog)
    source = [r for r in await read_to_end(infra, PRODUCT_LIKE) if r.key == key.encode()]
    assert len(source) == 2  # the poison record and its one redriven copy
    await consumed_past(infra, hot_catalog, source[-1])  # the consumer is past the copy: nothing more to come
    assert len(await parked_with(infra, key)) == 2  # the original and exactly one new copy

    audit = await console.get("/api/ops/audit", headers=as_ops())
    entry = next(e for e in audit.json()["entries"] if e["auditNo"] == redriven.json()["auditNo"])
    target = f"{DLT}:{shown['partition']}:{shown['offset']}"
    assert (entry["actor"], entry["action"], entry["target"], entry["outcome"]) == (
        ops_actor(), "redrive-one", target, "ok"
    )  # fmt: skip


async def overview_of(console: httpx.AsyncClient) -> dict[str, Any]:
    response = await console.get("/api/ops/overview", headers=as_ops(), timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_whole_topic_is_redriven_once_and_recorded(infra: InfraSettings, console: httpx.AsyncClient) -> None:
    topic = await new_topic(infra)
    publisher = KafkaPublisher(infra)
    try:
        await park(infra, publisher, [event(topic, 1, "a"), event(topic, 2, "b")])
    finally:
        await publisher.close()
    before = await console.get(f"/api/ops/dead-letters/{topic}.DLT", headers=as_ops(), timeout=60)
    assert (before.json()["total"], before.json()["pending"]) == (2, 2)

    first = await console.post(f"/api/ops/dead-letters/{topic}/redrive", headers=as_ops(), timeout=60)
    assert first.status_code == 200, first.text
    assert (first.json()["redriven"], first.json()["toTopics"]) == (2, {topic: 2})
    again = await console.post(f"/api/ops/dead-letters/{topic}/redrive", headers=as_ops(), timeout=60)
    assert again.json()["redriven"] == 0
    after = await console.get(f"/api/ops/dead-letters/{topic}", headers=as_ops(), timeout=60)
    assert (after.json()["pending"], [r["redriven"] for r in after.json()["records"]]) == (0, [True, True])
    copies = [r for r in await read_to_end(infra, topic) if "kiwi.redrive.from" in headers_dict(r)]
    assert sorted(r.key for r in copies) == [b"a", b"b"]

    entries = (await console.get("/api/ops/audit", headers=as_ops())).json()["entries"]
    mine = [e for e in entries if e["target"] == f"{topic}.DLT"]
    assert [(e["action"], e["outcome"], e["actor"]) for e in mine] == [("redrive-all", "ok", ops_actor())] * 2


async def test_a_record_not_there_is_a_404_and_is_in_the_audit_as_refused(
    infra: InfraSettings, console: httpx.AsyncClient
) -> None:
    topic = await new_topic(infra)
    response = await console.post(
        f"/api/ops/dead-letters/{topic}/redrive", json={"partition": 0, "offset": 5}, headers=as_ops(), timeout=60
    )
    assert response.status_code == 404
    assert response.json()["code"] == "CON0002"
    entries = (await console.get("/api/ops/audit", headers=as_ops())).json()["entries"]
    (entry,) = [e for e in entries if e["target"] == f"{topic}.DLT:0:5"]
    assert entry["outcome"].startswith("CON0002: ")

"""Catalog sells only for sellers seller's events announced: SELLER_REGISTERED / SELLER_DEREGISTERED on
catalog's seller topic (published here by the test, on this session's own topic) keep catalog's ``sellers``;
product registration and every read follow it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import text

from kiwishop.catalog.consumers import SELLER_CONSUMER
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.kafka import KafkaPublisher, OutgoingRecord
from kiwishop.platform.settings import InfraSettings
from tests.integration.catalog.sellers import IDS, seller_event
from tests.support import as_seller, eventually, headers_dict, read_topic, unique

REGISTERED, DEREGISTERED = "SELLER_REGISTERED", "SELLER_DEREGISTERED"


async def publish(publisher: KafkaPublisher, topic: str, events: Sequence[Envelope]) -> None:
    errors = await publisher.send_many([OutgoingRecord(topic, e.key, e.to_json()) for e in events])
    assert not any(errors), errors


async def scalar(db: Database, sql: str, **params: Any) -> Any:
    async with db.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar()


async def seller_row(db: Database, seller_no: int) -> Any:
    async with db.engine.connect() as conn:
        sql = "SELECT seller_no, seller_id, state, updated_at FROM sellers WHERE seller_no = :s"
        return (await conn.execute(text(sql), {"s": seller_no})).first()


async def state_of(db: Database, seller_no: int) -> str | None:
    row = await seller_row(db, seller_no)
    return None if row is None else str(row.state)


async def times_processed(db: Database, event_id: int) -> int:
    sql = "SELECT COUNT(*) FROM processed_messages WHERE consumer = :c AND event_id = :e"
    return int(await scalar(db, sql, c=SELLER_CONSUMER, e=event_id))


async def applied(db: Database, *events: Envelope) -> None:
    for event in events:
        await eventually(lambda e=event: times_processed(db, e.event_id), bool, timeout_s=20)


async def product_count(db: Database) -> int:
    return int(await scalar(db, "SELECT COUNT(*) FROM products"))


def product(seller_no: int) -> dict[str, object]:
    return {"sellerNo": seller_no, "productId": unique("sku"), "name": "판매자 상품", "price": "1500.00"}


async def register_product(catalog: httpx.AsyncClient, seller_no: int) -> int:
    response = await catalog.post("/api/products", json=product(seller_no), headers=as_seller(seller_no))
    assert response.status_code == 201, response.text
    product_no: int = response.json()["productNo"]
    return product_no


async def shown(catalog: httpx.AsyncClient, product_nos: list[int]) -> dict[str, list[int]]:
    """Which of ``product_nos`` each of catalog's three reads shows."""
    listed = await catalog.get("/products", params=[("productNoList", str(n)) for n in product_nos])
    one_by_one = [n for n in product_nos if (await catalog.get(f"/products/{n}")).status_code == 200]
    browsed = await catalog.get("/api/products", params={"after": min(product_nos) - 1, "limit": 100})
    wanted = set(product_nos)
    return {
        "list": [p["productNo"] for p in listed.json()["productList"]],
        "one": one_by_one,
        "browse": [p["productNo"] for p in browsed.json()["productList"] if p["productNo"] in wanted],
    }


async def test_a_product_for_a_seller_catalog_does_not_know_is_a_409_ctg0005_and_writes_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database
) -> None:
    before = await product_count(catalog_db)
    seller_no = IDS.next_id()
    response = await catalog.post(
        "/api/products", json=product(seller_no), headers={"Accept-Language": "en", **as_seller(seller_no)}
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "CTG0005"
    assert f"Seller {seller_no} is not registered (yet)" in body["message"]
    assert (await catalog.post("/api/products", json=product(seller_no), headers=as_seller(seller_no))).json()[
        "message"
    ]  # Korean too
    assert await product_count(catalog_db) == before


async def test_seller_registered_lets_that_seller_register_products_which_every_read_shows(
    catalog: httpx.AsyncClient, catalog_db: Database, catalog_settings: CatalogSettings, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    assert (
        await catalog.post("/api/products", json=product(seller_no), headers=as_seller(seller_no))
    ).status_code == 409
    await publish(publisher, catalog_settings.seller_topic, [seller_event(REGISTERED, seller_no)])
    await eventually(lambda: state_of(catalog_db, seller_no), lambda s: s == "ACTIVE", timeout_s=20)
    product_no = await register_product(catalog, seller_no)
    assert await shown(catalog, [product_no]) == {"list": [product_no], "one": [product_no], "browse": [product_no]}


async def test_a_deregistered_seller_s_products_vanish_from_every_read_and_new_ones_are_refused(
    catalog: httpx.AsyncClient, catalog_db: Database, catalog_settings: CatalogSettings, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    await publish(publisher, catalog_settings.seller_topic, [seller_event(REGISTERED, seller_no)])
    await eventually(lambda: state_of(catalog_db, seller_no), lambda s: s == "ACTIVE", timeout_s=20)
    mine = [await register_product(catalog, seller_no) for _ in range(2)]
    assert (await shown(catalog, mine))["list"] == mine

    await publish(publisher, catalog_settings.seller_topic, [seller_event(DEREGISTERED, seller_no)])
    await eventually(lambda: state_of(catalog_db, seller_no), lambda s: s == "GONE", timeout_s=20)
    assert await shown(catalog, mine) == {"list": [], "one": [], "browse": []}
    seed = await catalog.get("/products", params=[("productNoList", str(n)) for n in [1, *mine]])
    assert [p["productNo"] for p in seed.json()["productList"]] == [1]
    gone = await catalog.get(f"/products/{mine[0]}", headers={"Accept-Language": "en"})
    assert (gone.status_code, gone.json()["code"]) == (404, "CTG0001")
    refused = await catalog.post("/api/products", json=product(seller_no), headers=as_seller(seller_no))
    assert (refused.status_code, refused.json()["code"]) == (409, "CTG0005")
    kept = await scalar(catalog_db, "SELECT COUNT(*) FROM products WHERE seller_no = :s", s=seller_no)
    assert kept == 2  # hidden, not deleted


async def test_gone_is_final_a_registered_event_arriving_after_the_deregistration_changes_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database, catalog_settings: CatalogSettings, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    gone, late = seller_event(DEREGISTERED, seller_no), seller_event(REGISTERED, seller_no)
    await publish(publisher, catalog_settings.seller_topic, [gone, late])
    await applied(catalog_db, gone, late)
    assert await state_of(catalog_db, seller_no) == "GONE"
    refused = await catalog.post("/api/products", json=product(seller_no), headers=as_seller(seller_no))
    assert (refused.status_code, refused.json()["code"]) == (409, "CTG0005")


async def test_redelivered_events_are_applied_once_and_change_nothing(
    catalog: httpx.AsyncClient, catalog_db: Database, catalog_settings: CatalogSettings, publisher: KafkaPublisher
) -> None:
    topic, seller_no = catalog_settings.seller_topic, IDS.next_id()
    registered, deregistered = seller_event(REGISTERED, seller_no), seller_event(DEREGISTERED, seller_no)
    await publish(publisher, topic, [registered, registered])
    await applied(catalog_db, registered)
    mine = await register_product(catalog, seller_no)
    await publish(publisher, topic, [deregistered])
    await eventually(lambda: state_of(catalog_db, seller_no), lambda s: s == "GONE", timeout_s=20)
    before = await seller_row(catalog_db, seller_no)

    marker = seller_event(DEREGISTERED, seller_no)  # same key: handled after the copies before it
    await publish(publisher, topic, [registered, deregistered, registered, marker])
    await applied(catalog_db, marker)
    assert await seller_row(catalog_db, seller_no) == before
    assert [await times_processed(catalog_db, e.event_id) for e in (registered, deregistered)] == [1, 1]
    assert await shown(catalog, [mine]) == {"list": [], "one": [], "browse": []}


async def test_malformed_seller_events_are_parked_in_the_dlt_and_never_applied(
    infra: InfraSettings,
    catalog: httpx.AsyncClient,
    catalog_db: Database,
    catalog_settings: CatalogSettings,
    publisher: KafkaPublisher,
) -> None:
    topic = catalog_settings.seller_topic
    n = [IDS.next_id() for _ in range(9)]
    bad = [
        seller_event(REGISTERED, n[0], sellerNo=str(n[0]) + "x"),
        seller_event(REGISTERED, n[1], sellerNo=None),
        seller_event(DEREGISTERED, n[2], sellerNo=True),
        seller_event(REGISTERED, n[3], sellerId=""),
        seller_event(REGISTERED, n[4], sellerId="x" * 129),
        seller_event(REGISTERED, n[5], key=str(n[5] + 1)),  # the key names another seller
        Envelope(IDS.next_id(), REGISTERED, seller_event(REGISTERED, n[6]).payload, str(n[6]), version=2),
        Envelope(IDS.next_id(), "SELLER_RENAMED", {"sellerNo": n[7], "sellerId": "r"}, str(n[7])),
    ]
    ignored = Envelope(
        IDS.next_id(), "WALLET_CREATE_REQUESTED", {"sagaId": 1, "sellerNo": n[8], "sellerId": "w"}, str(n[8])
    )
    marker = seller_event(DEREGISTERED, n[8])  # same key as the ignored command: handled after it
    undecodable = OutgoingRecord(topic, "undecodable-" + unique(), b"\xff not json {")
    await publish(publisher, topic, [*bad, ignored, marker])
    assert not any(await publisher.send_many([undecodable]))

    async def parked() -> list[Any]:
        records = await read_topic(infra, f"{topic}.DLT", idle_s=0.3)
        keys = {e.key for e in bad} | {undecodable.key}
        return [r for r in records if r.key is not None and r.key.decode() in keys]

    found = await eventually(parked, lambda records: len(records) >= len(bad) + 1, timeout_s=30)
    await applied(catalog_db, marker)
    assert sorted(r.key.decode() for r in found) == sorted([*(e.key for e in bad), undecodable.key])
    assert {headers_dict(r)["kiwi.dlt.consumer.group"] for r in found} == {catalog_settings.seller_group_id}
    parked_bad = [r for r in found if r.key.decode() != undecodable.key]
    assert all("PermanentError" in headers_dict(r)["kiwi.dlt.error"] for r in parked_bad)
    known = await scalar(catalog_db, "SELECT COUNT(*) FROM sellers WHERE seller_no IN :n", n=tuple(n[:8]))
    assert known == 0
    assert await times_processed(catalog_db, ignored.event_id) == 0
    assert await state_of(catalog_db, n[8]) == "GONE"  # the marker only


async def test_products_without_a_seller_or_of_a_seller_catalog_never_heard_of_are_never_shown(
    catalog: httpx.AsyncClient, catalog_db: Database
) -> None:
    orphan, stranger = IDS.next_id(), IDS.next_id()
    async with catalog_db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO products (product_no, seller_no, product_id, name, price, created_at, updated_at)"
                " VALUES (:o, NULL, :p1, '주인 없음', 10.00, NOW(), NOW()),"
                " (:s, :x, :p2, '모르는 판매자', 10.00, NOW(), NOW())"
            ),
            {"o": orphan, "s": stranger, "x": IDS.next_id(), "p1": unique("sku"), "p2": unique("sku")},
        )
    assert await shown(catalog, [orphan, stranger]) == {"list": [], "one": [], "browse": []}

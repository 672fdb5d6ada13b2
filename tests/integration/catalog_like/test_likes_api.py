"""catalog-like over HTTP against real MariaDB, broker and catalog (catalog.md acceptance tests 4–10, 25).

Pinned choices: a repeated like and an unlike without a like are 204 no-ops with no event (C3); the
outbox idempotency key is ``"{eventType}:{productLikeNo}"`` and the Kafka key is the productNo (C11/C24,
not the original's Java-hash shard/partition); the product is checked against catalog on like only
(unknown → 404 LIK0001, catalog down → 503 LIK0002); unlike and the reads never call catalog.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.catalog_like import handlers
from kiwishop.catalog_like.app import create_app
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.contracts.topics import PRODUCT_LIKE
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import Outbox
from tests.integration.catalog_like.servers import dead_url
from tests.support import as_member, eventually, read_topic, running_app


def path(product: int, member: int) -> str:
    return f"/api/catalog-likes/products/{product}/members/{member}"


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def like_rows(db: Database, product: int) -> list[Any]:
    return await rows(db, "SELECT * FROM product_likes WHERE product_no = :p", p=product)


async def count_row(db: Database, product: int) -> Any:
    found = await rows(db, "SELECT like_count, version FROM product_like_counts WHERE product_no = :p", p=product)
    return found[0] if found else None


async def outbox_rows(db: Database, product: int) -> list[Any]:
    return await rows(db, "SELECT * FROM outbox WHERE message_key = :k ORDER BY outbox_no", k=str(product))


def payload(row: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = json.loads(row.payload)
    return {"type": envelope["type"], **envelope["payload"]}


async def test_a_first_like_stores_the_pair_count_1_version_0_and_one_keyed_event(
    likes: httpx.AsyncClient, like_db: Database, product: int, infra: Any
) -> None:
    response = await likes.post(path(product, 1), headers=as_member(1))
    assert response.status_code == 204
    assert response.content == b""
    (row,) = await like_rows(like_db, product)
    assert row.member_no == 1
    assert tuple(await count_row(like_db, product)) == (1, 0)
    (out,) = await outbox_rows(like_db, product)
    assert out.event_type == "PRODUCT_LIKED"
    assert out.topic == PRODUCT_LIKE
    assert out.idempotency_key == f"PRODUCT_LIKED:{row.product_like_no}"
    assert payload(out) == {
        "type": "PRODUCT_LIKED",
        "catalogLikeNo": row.product_like_no,
        "productNo": product,
        "memberNo": 1,
        "productLikeCount": 1,
        "createdAt": row.created_at.isoformat(timespec="milliseconds") + "Z",
        "version": 0,
    }
    await eventually(lambda: outbox_rows(like_db, product), lambda r: r[0].status == "SUCCESS", timeout_s=20)
    records = [r for r in await read_topic(infra, PRODUCT_LIKE) if r.key == str(product).encode()]
    assert len(records) == 1
    assert Envelope.from_record(records[0].key, records[0].value).payload["productLikeCount"] == 1


async def test_liking_again_is_a_204_that_changes_nothing_and_emits_nothing(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    assert (await likes.post(path(product, 7), headers=as_member(7))).status_code == 204
    before = await like_rows(like_db, product)
    again = await likes.post(path(product, 7), headers=as_member(7))
    assert again.status_code == 204
    assert await like_rows(like_db, product) == before
    assert tuple(await count_row(like_db, product)) == (1, 0)
    assert len(await outbox_rows(like_db, product)) == 1


async def test_unlike_deletes_the_pair_and_emits_the_deleted_id_and_stored_like_time(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    await likes.post(path(product, 3), headers=as_member(3))
    (liked,) = await like_rows(like_db, product)
    response = await likes.delete(path(product, 3), headers=as_member(3))
    assert response.status_code == 204
    assert await like_rows(like_db, product) == []
    assert tuple(await count_row(like_db, product)) == (0, 1)
    _, out = await outbox_rows(like_db, product)
    assert out.idempotency_key == f"PRODUCT_UNLIKED:{liked.product_like_no}"
    assert payload(out) == {
        "type": "PRODUCT_UNLIKED",
        "catalogLikeNo": liked.product_like_no,
        "productNo": product,
        "memberNo": 3,
        "productLikeCount": 0,
        "createdAt": liked.created_at.isoformat(timespec="milliseconds") + "Z",
        "version": 1,
    }


async def test_unlike_without_a_like_is_a_204_that_writes_nothing(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    assert (await likes.delete(path(product, 5), headers=as_member(5))).status_code == 204
    assert await like_rows(like_db, product) == []
    assert await count_row(like_db, product) is None
    assert await outbox_rows(like_db, product) == []


async def test_100_concurrent_first_likes_by_100_members_all_succeed_and_count_exactly(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    responses = await asyncio.gather(*(likes.post(path(product, m), headers=as_member(m)) for m in range(1, 101)))
    assert [r.status_code for r in responses] == [204] * 100
    assert len(await like_rows(like_db, product)) == 100
    assert tuple(await count_row(like_db, product)) == (100, 99)
    events = [payload(r) for r in await outbox_rows(like_db, product)]
    assert sorted((e["version"], e["productLikeCount"]) for e in events) == [(v, v + 1) for v in range(100)]
    assert (await likes.get(f"/api/catalog-likes/products/{product}")).json() == {
        "productNo": product,
        "likeCount": 100,
    }


async def test_the_same_member_liking_10_times_at_once_makes_one_like(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    responses = await asyncio.gather(*(likes.post(path(product, 9), headers=as_member(9)) for _ in range(10)))
    assert [r.status_code for r in responses] == [204] * 10
    assert len(await like_rows(like_db, product)) == 1
    assert tuple(await count_row(like_db, product)) == (1, 0)
    assert len(await outbox_rows(like_db, product)) == 1


async def test_concurrent_unlikes_remove_one_like_once_and_the_count_never_goes_negative(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    await likes.post(path(product, 4), headers=as_member(4))
    responses = await asyncio.gather(*(likes.delete(path(product, 4), headers=as_member(4)) for _ in range(10)))
    assert [r.status_code for r in responses] == [204] * 10
    assert (await likes.delete(path(product, 4), headers=as_member(4))).status_code == 204
    assert tuple(await count_row(like_db, product)) == (0, 1)
    assert [r.event_type for r in await outbox_rows(like_db, product)] == ["PRODUCT_LIKED", "PRODUCT_UNLIKED"]
    assert (await likes.get(f"/api/catalog-likes/products/{product}")).json()["likeCount"] == 0


async def test_like_unlike_like_unlike_counts_and_versions_follow_each_change(
    likes: httpx.AsyncClient, like_db: Database, product: int
) -> None:
    for method in ("post", "delete", "post", "delete"):
        assert (await getattr(likes, method)(path(product, 2), headers=as_member(2))).status_code == 204
    events = [payload(r) for r in await outbox_rows(like_db, product)]
    assert [(e["type"], e["productLikeCount"], e["version"]) for e in events] == [
        ("PRODUCT_LIKED", 1, 0),
        ("PRODUCT_UNLIKED", 0, 1),
        ("PRODUCT_LIKED", 1, 2),
        ("PRODUCT_UNLIKED", 0, 3),
    ]
    assert events[0]["catalogLikeNo"] == events[1]["catalogLikeNo"] != events[2]["catalogLikeNo"]


async def test_the_reads_answer_count_and_whether_a_member_likes(likes: httpx.AsyncClient, product: int) -> None:
    assert (await likes.get(f"/api/catalog-likes/products/{product}")).json() == {"productNo": product, "likeCount": 0}
    assert (await likes.get(path(product, 11), headers=as_member(11))).json() == {"liked": False}
    await likes.post(path(product, 11), headers=as_member(11))
    await likes.post(path(product, 12), headers=as_member(12))
    assert (await likes.get(f"/api/catalog-likes/products/{product}")).json() == {"productNo": product, "likeCount": 2}
    assert (await likes.get(path(product, 11), headers=as_member(11))).json() == {"liked": True}
    assert (await likes.get(path(product, 13), headers=as_member(13))).json() == {"liked": False}


async def test_a_product_catalog_does_not_know_is_a_404_and_nothing_is_written(
    likes: httpx.AsyncClient, like_db: Database
) -> None:
    unknown = 987_654_321_012
    response = await likes.post(path(unknown, 1), headers={"Accept-Language": "en", **as_member(1)})
    assert response.status_code == 404
    assert response.json() == {"code": "LIK0001", "message": "The product does not exist."}
    assert await like_rows(like_db, unknown) == []
    assert await outbox_rows(like_db, unknown) == []


async def test_catalog_down_is_a_503_with_the_error_body_and_nothing_is_written(
    like_settings: CatalogLikeSettings, like_db: Database, product: int
) -> None:
    settings = like_settings.model_copy(update={"catalog_url": dead_url()})
    async with running_app(create_app(settings)) as client:
        response = await client.post(path(product, 1), headers=as_member(1))
    assert response.status_code == 503
    assert response.json()["code"] == "LIK0002"
    assert response.json()["message"]
    assert await like_rows(like_db, product) == []


async def test_bad_path_values_are_400_with_the_error_body(likes: httpx.AsyncClient) -> None:
    for bad in (path(0, 1), path(1, 0), "/api/catalog-likes/products/x/members/1", path(1, 2**63)):
        response = await likes.post(bad, headers=as_member(1))
        assert response.status_code == 400, bad
        assert response.json()["code"] == "INVALID_REQUEST"


class FailingOutbox(Outbox):
    async def add(self, uow: UnitOfWork, **kwargs: Any) -> Envelope:
        await super().add(uow, **kwargs)
        raise RuntimeError("injected failure after the outbox insert")


async def test_a_failure_after_the_outbox_insert_rolls_back_the_like_the_count_and_the_event(
    like_db: Database, product: int
) -> None:
    ids = Snowflake(117)
    with pytest.raises(RuntimeError):
        await handlers.like(like_db, ids, FailingOutbox(ids), product, 1, topic=PRODUCT_LIKE)
    assert await like_rows(like_db, product) == []
    assert await count_row(like_db, product) is None
    assert await outbox_rows(like_db, product) == []


async def test_an_event_written_while_no_relay_runs_is_published_when_the_service_starts(
    like_settings: CatalogLikeSettings, like_db: Database, product: int
) -> None:
    ids = Snowflake(118)
    change = await handlers.like(like_db, ids, Outbox(ids), product, 1, topic=PRODUCT_LIKE)
    assert change is not None
    (pending,) = await outbox_rows(like_db, product)
    assert pending.status == "INIT"
    async with running_app(create_app(like_settings)):
        await eventually(lambda: outbox_rows(like_db, product), lambda r: r[0].status == "SUCCESS", timeout_s=20)
    (published,) = await outbox_rows(like_db, product)
    assert published.published_at is not None
    assert published.attempts == 1

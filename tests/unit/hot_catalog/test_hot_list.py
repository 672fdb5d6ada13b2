"""The read side without servers: catalog data cache and list assembly (catalog.md acceptance test 20)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any

import pytest

from kiwishop.hot_catalog.catalog_client import ProductCatalog
from kiwishop.hot_catalog.domain import HotError, Ranked, rank_order
from kiwishop.hot_catalog.queries import HotList
from kiwishop.platform.errors import AppError
from kiwishop.platform.httpclient import HttpClient, HttpError, HttpResponse

CATALOG = {
    n: {"productNo": n, "sellerNo": 1, "productId": f"P{n}", "name": f"상품{n}", "price": n * 1000}
    for n in range(1, 80)
}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeCatalog:
    """catalog's GET /products: known ids in ascending order, unknown ones omitted."""

    def __init__(self, known: set[int]) -> None:
        self.known = known
        self.calls: list[list[int]] = []
        self.down = False

    async def get(self, path: str, *, params: Any = None, headers: Any = None) -> HttpResponse:
        """Shaped like platform.httpclient.HttpClient.get."""
        if self.down:
            raise HttpError("down")
        asked = [int(p) for p in params["productNoList"].split(",")]
        self.calls.append(asked)
        body = {"productList": [CATALOG[p] for p in sorted(asked) if p in self.known]}
        return HttpResponse(200, json.dumps(body).encode(), {})

    def client(self) -> HttpClient:
        return self  # type: ignore[return-value]


class FakeRanking:
    def __init__(self, scores: dict[int, int]) -> None:
        self.ordered = rank_order(list(scores.items()))

    async def page(self, now: dt.datetime, start: int, count: int) -> list[Ranked]:
        return self.ordered[start : start + count]


def hot_list(scores: dict[int, int], catalog: FakeCatalog, **kwargs: Any) -> HotList:
    return HotList(
        FakeRanking(scores), ProductCatalog(catalog.client()), clock=lambda: dt.datetime.now(dt.UTC), **kwargs
    )


async def test_products_come_in_rank_order_with_score_and_rank_and_two_decimal_prices() -> None:
    listing = hot_list({1: 4, 2: 28, 3: 8}, FakeCatalog({1, 2, 3}), cache_ttl_s=0)
    body = await listing.render()
    assert [(p["productNo"], p["score"], p["rank"]) for p in json.loads(body)["productList"]] == [
        (2, 28, 1),
        (3, 8, 2),
        (1, 4, 3),
    ]
    assert b'"price":2000.00' in body
    assert list(json.loads(body)["productList"][0]) == [
        "productNo",
        "sellerNo",
        "productId",
        "name",
        "price",
        "score",
        "rank",
    ]


async def test_ids_catalog_does_not_know_are_skipped_and_the_next_ones_fill_the_list() -> None:
    scores = {n: 1000 - n for n in range(1, 60)}
    unknown = set(range(1, 41, 2))  # 20 of the 30 highest are unknown to catalog
    listing = hot_list(scores, FakeCatalog(set(scores) - unknown), size=10, candidates=12)
    products = await listing.products()
    assert [p.productNo for p in products] == [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]
    assert [p.rank for p in products] == list(range(1, 11))


async def test_an_empty_ranking_is_an_empty_list_without_asking_catalog() -> None:
    catalog = FakeCatalog(set())
    assert json.loads(await hot_list({}, catalog).render()) == {"productList": []}
    assert catalog.calls == []


async def test_catalog_data_and_unknown_ids_are_cached_for_the_ttl() -> None:
    clock, catalog = Clock(), FakeCatalog({1, 2})
    products = ProductCatalog(catalog.client(), ttl_s=30, clock=clock)
    assert set(await products.lookup([1, 2, 3])) == {1, 2}
    assert set(await products.lookup([3, 2, 1])) == {1, 2}
    assert catalog.calls == [[1, 2, 3]]
    clock.now += 31
    await products.lookup([1])
    assert catalog.calls == [[1, 2, 3], [1]]


async def test_concurrent_misses_ask_catalog_once() -> None:
    catalog = FakeCatalog({1, 2})
    products = ProductCatalog(catalog.client())
    await asyncio.gather(*(products.lookup([1, 2]) for _ in range(20)))
    assert catalog.calls == [[1, 2]]


async def test_catalog_down_is_a_503_unless_the_answer_is_cached() -> None:
    catalog = FakeCatalog({1})
    products = ProductCatalog(catalog.client())
    await products.lookup([1])
    catalog.down = True
    assert set(await products.lookup([1])) == {1}
    with pytest.raises(AppError) as caught:
        await products.lookup([2])
    assert caught.value.code is HotError.CATALOG_UNAVAILABLE


async def test_the_rendered_list_is_reused_until_its_ttl_passes() -> None:
    clock, catalog = Clock(), FakeCatalog({1, 2})
    ranking = FakeRanking({1: 5})
    listing = HotList(
        ranking,
        ProductCatalog(catalog.client()),
        cache_ttl_s=0.5,
        clock=lambda: dt.datetime.now(dt.UTC),
        monotonic=clock,
    )
    first = await listing.render()
    ranking.ordered = rank_order([(1, 5), (2, 9)])
    assert await listing.render() == first
    clock.now += 0.6
    assert [p["productNo"] for p in json.loads(await listing.render())["productList"]] == [2, 1]

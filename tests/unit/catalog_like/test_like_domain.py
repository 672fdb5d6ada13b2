from __future__ import annotations

import datetime as dt

import httpx
import pytest

from kiwishop.catalog_like.catalog_client import KnownProducts
from kiwishop.catalog_like.domain import PRODUCT_LIKED, PRODUCT_UNLIKED, LikeChange, LikeError, utc_now_ms
from kiwishop.platform.errors import AppError


def test_a_like_event_carries_the_totals_the_version_and_an_iso_utc_like_time() -> None:
    change = LikeChange(
        PRODUCT_LIKED,
        140213245587460096,
        1,
        7,
        dt.datetime(2025, 1, 11, 13, 32, 6, 123000, tzinfo=dt.UTC).replace(tzinfo=None),
        3,
        2,
    )
    assert change.idempotency_key == "PRODUCT_LIKED:140213245587460096"
    assert change.payload() == {
        "catalogLikeNo": 140213245587460096,
        "productNo": 1,
        "memberNo": 7,
        "productLikeCount": 3,
        "createdAt": "2025-01-11T13:32:06.123Z",
        "version": 2,
    }


def test_an_unlike_is_keyed_by_its_own_type_and_the_deleted_like() -> None:
    change = LikeChange(PRODUCT_UNLIKED, 5, 1, 7, dt.datetime(2025, 1, 11, tzinfo=dt.UTC), 0, 3)
    assert change.idempotency_key == "PRODUCT_UNLIKED:5"


def test_like_times_are_naive_utc_with_millisecond_precision() -> None:
    now = utc_now_ms()
    assert now.tzinfo is None
    assert now.microsecond % 1000 == 0
    assert abs(now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)


def catalog(handler: httpx.MockTransport) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=handler, base_url="http://catalog")


async def test_a_known_product_is_asked_once_then_remembered() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"productNo": 1})

    products = KnownProducts(catalog(httpx.MockTransport(answer)))
    await products.require(1)
    await products.require(1)
    assert calls == ["/products/1"]


async def test_an_unknown_product_is_a_404_and_is_asked_again_next_time() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(404, json={"code": "CTG0001"})

    products = KnownProducts(catalog(httpx.MockTransport(answer)))
    for _ in range(2):
        with pytest.raises(AppError) as caught:
            await products.require(9)
        assert caught.value.code is LikeError.PRODUCT_NOT_FOUND
    assert len(calls) == 2


@pytest.mark.parametrize("failure", ["500", "timeout", "refused"])
async def test_a_failing_or_unreachable_catalog_is_a_503(failure: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if failure == "timeout":
            raise httpx.ReadTimeout("slow", request=request)
        if failure == "refused":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(500)

    with pytest.raises(AppError) as caught:
        await KnownProducts(catalog(httpx.MockTransport(answer))).require(1)
    assert caught.value.code is LikeError.CATALOG_UNAVAILABLE
    assert caught.value.status == 503


async def test_the_known_set_is_bounded() -> None:
    products = KnownProducts(catalog(httpx.MockTransport(lambda r: httpx.Response(200, json={}))), cache_size=2)
    for product_no in (1, 2, 3):
        await products.require(product_no)
    assert list(products._known) == [2, 3]

"""KnownProducts (likes and reviews ask catalog whether a product exists) against a fake HTTP port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kiwishop.catalog_like.domain import LikeError
from kiwishop.contracts.catalog import KnownProducts
from kiwishop.platform.errors import AppError
from kiwishop.platform.httpclient import HttpError, HttpResponse, HttpTimeout


class FakeCatalog:
    def __init__(self, answer: Callable[[str], HttpResponse]) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def get(self, path: str, **_: Any) -> HttpResponse:
        self.calls.append(path)
        return self.answer(path)


def known(fake: FakeCatalog, cache_size: int = 10_000) -> KnownProducts:
    return KnownProducts(
        fake,  # type: ignore[arg-type]
        not_found=LikeError.PRODUCT_NOT_FOUND,
        unavailable=LikeError.CATALOG_UNAVAILABLE,
        cache_size=cache_size,
    )


async def test_a_known_product_is_asked_once_then_remembered() -> None:
    fake = FakeCatalog(lambda path: HttpResponse(200, b'{"productNo": 1}', {}))
    products = known(fake)
    await products.require(1)
    await products.require(1)
    assert fake.calls == ["/products/1"]


async def test_an_unknown_product_is_the_callers_404_and_is_asked_again_next_time() -> None:
    fake = FakeCatalog(lambda path: HttpResponse(404, b'{"code": "CTG0001"}', {}))
    products = known(fake)
    for _ in range(2):
        with pytest.raises(AppError) as caught:
            await products.require(9)
        assert caught.value.code is LikeError.PRODUCT_NOT_FOUND
    assert len(fake.calls) == 2


@pytest.mark.parametrize("failure", ["500", "timeout", "refused"])
async def test_a_failing_or_unreachable_catalog_is_the_callers_503(failure: str) -> None:
    def answer(path: str) -> HttpResponse:
        if failure == "timeout":
            raise HttpTimeout("slow")
        if failure == "refused":
            raise HttpError("refused")
        return HttpResponse(500, b"", {})

    with pytest.raises(AppError) as caught:
        await known(FakeCatalog(answer)).require(1)
    assert caught.value.code is LikeError.CATALOG_UNAVAILABLE
    assert caught.value.status == 503


async def test_the_known_set_is_bounded() -> None:
    products = known(FakeCatalog(lambda path: HttpResponse(200, b"{}", {})), cache_size=2)
    for product_no in (1, 2, 3):
        await products.require(product_no)
    assert list(products._known) == [2, 3]

"""order-query writes O6's nextCursor exactly as order does, and reads it from order's answers."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kiwishop.order.schemas import PaymentEventListOut
from kiwishop.order_query.order_client import OrderClient
from kiwishop.order_query.ports import OrderUnavailable
from kiwishop.order_query.queries import list_body
from kiwishop.platform import jsonutil
from kiwishop.platform.httpclient import HttpClient, HttpResponse
from kiwishop.platform.web import model_response


@pytest.mark.parametrize("cursor", [None, 383823812703047680])
def test_a_page_body_is_byte_for_byte_what_order_renders(cursor: int | None) -> None:
    order = model_response(PaymentEventListOut(paymentEventList=[], nextCursor=None if cursor is None else str(cursor)))
    assert list_body([], cursor) == order.body
    event = b'{"paymentEventNo":7}'
    assert list_body([event, event], cursor).startswith(b'{"paymentEventList":[{"paymentEventNo":7},{')


class FakeHttp:
    def __init__(self, body: Any) -> None:
        self.body = body
        self.headers: list[Any] = []

    async def get(self, path: str, params: Any = None, headers: Any = None) -> HttpResponse:
        self.headers.append(headers)
        return HttpResponse(200, jsonutil.dumps(self.body), {})


def events(*numbers: int) -> list[dict[str, Any]]:
    return [{"paymentEventNo": n, "paymentDone": True} for n in numbers]


async def page(body: Any, limit: int = 2) -> tuple[list[int], int | None]:
    http = FakeHttp(body)
    answer = await OrderClient(cast(HttpClient, http)).paid_page(1, None, limit, authorization="Bearer m1")
    assert http.headers == [{"Authorization": "Bearer m1"}]  # the reader's own header, as it came
    return [e["paymentEventNo"] for e in answer.events], answer.next_cursor


async def test_orders_next_cursor_is_taken_as_it_says() -> None:
    assert await page({"paymentEventList": events(9, 8), "nextCursor": "8"}) == ([9, 8], 8)
    assert await page({"paymentEventList": events(9, 8), "nextCursor": None}) == ([9, 8], None)
    assert await page({"paymentEventList": [], "nextCursor": None}) == ([], None)


async def test_an_order_from_before_next_cursor_has_one_after_every_full_page() -> None:
    assert await page({"paymentEventList": events(9, 8)}) == ([9, 8], 8)
    assert await page({"paymentEventList": events(9)}) == ([9], None)


@pytest.mark.parametrize(
    "body",
    [
        {"paymentEventList": events(9, 8), "nextCursor": "x"},
        {"paymentEventList": events(9, 8), "nextCursor": 8},
        {"paymentEventList": events(9, 8), "nextCursor": "-8"},
        {"paymentEventList": [{"paymentEventNo": "9"}], "nextCursor": None},
        {"paymentEventList": [{"paymentEventNo": True}], "nextCursor": None},
        {"nextCursor": None},
    ],
)
async def test_anything_else_is_order_not_answering_o6(body: Any) -> None:
    with pytest.raises(OrderUnavailable):
        await page(body)

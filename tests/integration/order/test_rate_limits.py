"""Per-member rate limits on checkout, confirm and cancel (real Redis, real emulator): past the limit a 429 with
Retry-After, nothing done — no order row, no PSP call — while another member goes on; with Redis gone the shop
keeps selling."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
from sqlalchemy import text

from kiwishop.order.app import create_app as create_order
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from tests.integration.order.payments import Emulator, checkout
from tests.support import as_member, dead_port, eventually, running_app


def a_member() -> int:
    return random.randint(10_000_000, 99_999_999)  # the session's Redis counts per member number


def assert_too_many(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "TOO_MANY_REQUESTS"
    assert 1 <= int(response.headers["retry-after"]) <= 60


async def orders_of(db: Database, member: int) -> int:
    async with db.engine.connect() as conn:
        sql = text("SELECT COUNT(*) FROM payment_events WHERE member_no = :m")
        return int((await conn.execute(sql, {"m": member})).scalar_one())


async def test_a_members_third_checkout_in_a_window_is_429_and_writes_nothing(
    order_settings: Callable[..., OrderSettings], order_db: Database
) -> None:
    member, other = a_member(), a_member()
    async with running_app(create_order(order_settings(rate_limit_checkouts=2))) as order:
        body = {"memberNo": member, "productNoList": [1]}
        for _ in range(2):
            assert (await order.post("/api/checkout", json=body, headers=as_member(member))).status_code == 201
        assert_too_many(await order.post("/api/checkout", json=body, headers=as_member(member)))
        assert await orders_of(order_db, member) == 2
        other_body = {"memberNo": other, "productNoList": [1]}
        assert (await order.post("/api/checkout", json=other_body, headers=as_member(other))).status_code == 201


async def test_confirm_and_cancel_past_the_limit_never_reach_the_psp(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator
) -> None:
    member = a_member()
    settings = order_settings(toss_api_url=emulator_url, rate_limit_confirms=1, rate_limit_cancels=1)
    async with running_app(create_order(settings)) as order:
        first, second = await checkout(order, [1], member), await checkout(order, [2], member)
        for created in (first, second):
            key = await emulator.authorise(created["orderId"], created["amount"])
            created["paymentKey"] = key
        confirm = {"paymentKey": first["paymentKey"], "orderId": first["orderId"], "amount": str(first["amount"])}
        assert (await order.post("/api/payments/confirm", json=confirm, headers=as_member(member))).status_code == 200
        requests_before = await emulator.confirm_requests()
        again = {"paymentKey": second["paymentKey"], "orderId": second["orderId"], "amount": str(second["amount"])}
        assert_too_many(await order.post("/api/payments/confirm", json=again, headers=as_member(member)))
        assert await emulator.confirm_requests() == requests_before  # the PSP was not asked

        cancel = {"cancelReason": "변심", "paymentOrderNos": None}
        url = f"/api/payments/{first['orderId']}/cancel"
        assert (await order.post(url, json=cancel, headers=as_member(member))).status_code == 200
        assert_too_many(await order.post(url, json=cancel, headers=as_member(member)))


async def test_with_redis_gone_the_limits_let_requests_through(order_settings: Callable[..., OrderSettings]) -> None:
    base = order_settings(rate_limit_checkouts=1)
    dead_redis = base.infra.model_copy(update={"redis_url": f"redis://127.0.0.1:{dead_port()}/0"})  # a copy: the
    settings = base.model_copy(update={"infra": dead_redis})  # session's infra is every other test's too
    member = a_member()
    async with running_app(create_order(settings)) as order:
        body = {"memberNo": member, "productNoList": [1]}
        for _ in range(3):
            assert (await order.post("/api/checkout", json=body, headers=as_member(member))).status_code == 201
        # ready without Redis once its consumer has joined (Redis is not among its checks)
        ready = await eventually(lambda: order.get("/health/ready"), lambda r: r.status_code == 200, timeout_s=30)
        assert "redis" not in ready.json()["checks"]

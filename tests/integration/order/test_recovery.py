"""Payments in doubt never stay stuck: recovery settles them, and gives up after the threshold."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from tests.integration.order.payments import Emulator, checkout, confirm
from tests.support import eventually, running_app


async def status_of(order: httpx.AsyncClient, order_id: str) -> dict:  # type: ignore[type-arg]
    return (await order.get(f"/api/payments/{order_id}")).json()  # type: ignore[no-any-return]


async def test_an_unreachable_psp_ends_in_failure_after_the_threshold(
    order_settings: Callable[..., OrderSettings], order_db: Database
) -> None:
    dead_psp = order_settings(toss_api_url="http://127.0.0.1:9", psp_max_attempts=1, failure_threshold=3)
    async with running_app(create_app(dead_psp)) as order:
        created = await checkout(order, [1])
        response = await confirm(order, "tgen_never_reaches", created["orderId"], created["amount"])
        assert response.status_code == 202
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "FAILURE", timeout_s=30
        )
    assert result["failure"]["code"] == "RECOVERY_EXHAUSTED"
    async with order_db.engine.connect() as conn:
        failed = (
            await conn.execute(
                text("SELECT MAX(failed_count) FROM payment_orders WHERE order_id = :o"), {"o": created["orderId"]}
            )
        ).scalar_one()
    assert failed == 2  # the API's attempt and one recovery attempt in doubt; the third decides


async def test_an_order_left_executing_by_a_crash_is_taken_over_and_confirmed(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    async with running_app(create_app(order_settings(toss_api_url=emulator_url, executing_stale_s=1.0))) as order:
        created = await checkout(order, [2])
        key = await emulator.authorise(created["orderId"], created["amount"])
        async with order_db.uow() as uow:  # what a crash between tx1 and the PSP call leaves behind
            await uow.conn.execute(
                text(
                    "UPDATE payment_orders SET payment_order_status = 'EXECUTING', "
                    "updated_at = UTC_TIMESTAMP(3) - INTERVAL 10 SECOND WHERE order_id = :o"
                ),
                {"o": created["orderId"]},
            )
            await uow.conn.execute(
                text("UPDATE payment_events SET payment_key = :k WHERE order_id = :o"),
                {"k": key, "o": created["orderId"]},
            )
            await uow.commit()
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "SUCCESS", timeout_s=30
        )
    assert result["paymentKey"] == key


@pytest.mark.slow
async def test_at_30_percent_faults_every_order_ends_settled_and_approvals_equal_successes(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    settings = order_settings(toss_api_url=emulator_url, psp_read_timeout_s=0.5, executing_stale_s=3.0)
    async with running_app(create_app(settings)) as order:
        orders = [await checkout(order, [1, 2], member=4242) for _ in range(60)]
        keys = [await emulator.authorise(o["orderId"], o["amount"]) for o in orders]
        approved_before = await emulator.approved()
        await emulator.faults(fault5xxRate=0.1, faultTimeoutRate=0.1, faultDropRate=0.1, hangS=1.0)
        limit = asyncio.Semaphore(20)

        async def pay(o: dict, key: str) -> int:  # type: ignore[type-arg]
            async with limit:
                return (await confirm(order, key, o["orderId"], o["amount"])).status_code

        codes = await asyncio.gather(*(pay(o, k) for o, k in zip(orders, keys, strict=True)))
        assert set(codes) <= {200, 202, 400}
        await emulator.faults(fault5xxRate=0.0, faultTimeoutRate=0.0, faultDropRate=0.0)

        async def statuses() -> list[str]:
            return [(await status_of(order, o["orderId"]))["status"] for o in orders]

        final = await eventually(statuses, lambda s: all(x in ("SUCCESS", "FAILURE") for x in s), timeout_s=90)
    successes = final.count("SUCCESS")
    assert await emulator.approved() - approved_before == successes
    async with order_db.engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT COUNT(*) FROM outbox o JOIN payment_events e ON e.order_id = o.message_key "
                    "WHERE e.member_no = 4242"
                )
            )
        ).scalar_one()
    assert events == successes

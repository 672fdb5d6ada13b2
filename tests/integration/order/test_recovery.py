"""Payments in doubt: verdicts only on the PSP's evidence — never FAILURE by a count of attempts.

Real MariaDB, the broker and the Toss emulator over HTTP; the order app runs its recovery worker. This file: an
order in doubt stays in doubt (or quarantined) while the PSP cannot answer, and ends SUCCESS, charged once, when it
can; test_recovery_verdicts.py: the FAILURE verdicts the PSP's evidence allows.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, checkout, confirm, published_confirms
from tests.integration.order.recovery_support import confirm_events, reasons, status_of
from tests.support import dead_url, eventually, running_app, tokens


async def test_an_unreachable_psp_never_fails_an_order_it_stays_in_doubt_with_growing_backoff(
    order_settings: Callable[..., OrderSettings], order_db: Database
) -> None:
    dead_psp = order_settings(
        toss_api_url=dead_url(), psp_max_attempts=1, recovery_backoff_base_s=0.2, recovery_backoff_max_s=0.8
    )
    async with running_app(create_app(dead_psp)) as order:
        created = await checkout(order, [1])
        response = await confirm(order, "tgen_never_reaches", created["orderId"], created["amount"])
        assert response.status_code == 202
        started = lambda: reasons(order_db, created["orderId"])  # noqa: E731
        await eventually(started, lambda r: r.count("RECOVERY_STARTED") >= 6, timeout_s=30)
        result = await status_of(order, created["orderId"])
    assert result["status"] in ("UNKNOWN", "EXECUTING")  # in doubt (EXECUTING while an attempt is running)
    assert result["failure"] is None
    history = await reasons(order_db, created["orderId"])
    assert not any(reason.startswith("PSP_DECLINED") for reason in history)
    async with order_db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT recovery_attempts, failure_code FROM payment_events WHERE order_id = :o"),
                {"o": created["orderId"]},
            )
        ).one()
    assert row.recovery_attempts >= 6
    assert row.failure_code == "PSP_UNREACHABLE"  # kept for operators; the API shows "확인 중"


async def test_in_doubt_past_the_horizon_is_quarantined_and_still_shown_as_pending(
    order_settings: Callable[..., OrderSettings], order_db: Database
) -> None:
    settings = order_settings(
        toss_api_url=dead_url(), psp_max_attempts=1, recovery_backoff_base_s=0.2, recovery_backoff_max_s=0.4,
        recovery_horizon_s=1.5,
    )  # fmt: skip
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [2])
        await confirm(order, "tgen_nobody_answers", created["orderId"], created["amount"])
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "QUARANTINED", timeout_s=30
        )
        assert result["failure"] is None
        again = await confirm(order, "tgen_nobody_answers", created["orderId"], created["amount"])
        assert again.status_code == 202  # a buyer's confirm neither fails it nor reopens it
        order.cookies.set("kiwi_session", tokens().member(1))  # the buyer's page login
        page = await order.get(
            "/success", params={"paymentKey": "tgen_nobody_answers", "orderId": created["orderId"], "amount": 2000}
        )
    assert "결제 확인 중" in page.text
    assert "결제 실패" not in page.text
    assert any(reason.startswith("QUARANTINED:") for reason in await reasons(order_db, created["orderId"]))


async def test_an_order_left_executing_by_a_crash_is_taken_over_and_charged_once(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    async with running_app(create_app(order_settings(toss_api_url=emulator_url, executing_stale_s=1.0))) as order:
        created = await checkout(order, [2])
        key = await emulator.authorise(created["orderId"], created["amount"])
        approved_before, amount_before = await emulator.approved(), (await emulator.stats())["approvedAmount"]
        async with order_db.uow() as uow:  # what a crash between tx1 and the PSP call leaves behind
            await uow.conn.execute(
                text("UPDATE payment_orders SET payment_order_status = 'EXECUTING' WHERE order_id = :o"),
                {"o": created["orderId"]},
            )
            await uow.conn.execute(
                text(
                    "UPDATE payment_events SET payment_key = :k, confirm_started_at = UTC_TIMESTAMP(3),"
                    " next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL 1 SECOND WHERE order_id = :o"
                ),
                {"k": key, "o": created["orderId"]},
            )
            await uow.commit()
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "SUCCESS", timeout_s=30
        )
        # the schema and the topics are this test's own: nothing but this order reaches the PSP or the topic
        published = await published_confirms(infra, order_db, order_topics.payment, created["orderId"])
    assert result["paymentKey"] == key
    assert await emulator.approved() == approved_before + 1  # one charge at the PSP …
    assert (await emulator.stats())["approvedAmount"] == amount_before + created["amount"]  # … of this order
    assert await confirm_events(order_db, created["orderId"]) == 1  # one event written …
    assert len(published) == 1  # … and published once
    assert (published[0].payload["paymentKey"], published[0].payload["totalAmount"]) == (key, created["amount"])
    assert "RECOVERY_TOOK_OVER_STALE_EXECUTION" in await reasons(order_db, created["orderId"])


async def test_a_lost_approval_during_a_psp_outage_with_failing_lookups_ends_success_soon_after_the_psp_returns(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    """The scaled-down acceptance case (make drills runs it with a 60 s outage): the approval's answer is lost,
    then every confirm and lookup fails with 5xx for a while. The order is never FAILURE, and it is SUCCESS —
    with exactly one charge and one PAYMENT_CONFIRM — within the backoff cap of the PSP's return."""
    outage_s, cap_s = 8.0, 3.0
    settings = order_settings(
        toss_api_url=emulator_url, psp_read_timeout_s=0.5, psp_max_attempts=2, recovery_backoff_base_s=0.5,
        recovery_backoff_max_s=cap_s,
    )  # fmt: skip
    async with running_app(create_app(settings)) as order:
        orders = [await checkout(order, [1, 3], member=4243) for _ in range(5)]
        keys = [await emulator.authorise(o["orderId"], o["amount"]) for o in orders]
        approved_before = await emulator.approved()
        await emulator.faults(faultDropRate=1.0, hangS=1.0)  # approved, the answer lost
        pairs = zip(orders, keys, strict=True)
        codes = await asyncio.gather(*(confirm(order, k, o["orderId"], o["amount"]) for o, k in pairs))
        await emulator.faults(faultDropRate=0.0, fault5xxRate=1.0, faultLookups=True)  # the outage
        assert {c.status_code for c in codes} <= {200, 202}
        ids = [o["orderId"] for o in orders]
        seen: set[str] = set()
        ends = time.monotonic() + outage_s
        while time.monotonic() < ends:
            seen |= {(await status_of(order, i))["status"] for i in ids}
            await asyncio.sleep(0.2)
        assert "FAILURE" not in seen
        await emulator.faults(fault5xxRate=0.0, faultLookups=False)
        back = time.monotonic()

        async def statuses() -> list[str]:
            return [(await status_of(order, i))["status"] for i in ids]

        await eventually(statuses, lambda s: s == ["SUCCESS"] * len(ids), timeout_s=cap_s + 10)
        healed_in = time.monotonic() - back
    assert healed_in <= cap_s + 2
    assert await emulator.approved() == approved_before + len(ids)
    for order_id in ids:
        assert await confirm_events(order_db, order_id) == 1


async def test_a_buyers_confirm_while_the_order_backs_off_does_not_call_the_psp(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator
) -> None:
    settings = order_settings(
        toss_api_url=emulator_url, psp_max_attempts=1, psp_read_timeout_s=0.5, recovery_backoff_base_s=30.0
    )
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [3])
        key = await emulator.authorise(created["orderId"], created["amount"])
        await emulator.faults(faultTimeoutRate=1.0, hangS=1.0)
        assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 202
        await emulator.faults(faultTimeoutRate=0.0)
        before = await emulator.confirm_requests()
        for _ in range(5):  # a buyer reloading the result page
            assert (await confirm(order, key, created["orderId"], created["amount"])).status_code == 202
        assert await emulator.confirm_requests() == before
        assert (await status_of(order, created["orderId"]))["status"] == "UNKNOWN"


@pytest.mark.slow
async def test_at_30_percent_faults_every_order_ends_settled_and_approvals_equal_successes(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    settings = order_settings(
        toss_api_url=emulator_url, psp_read_timeout_s=0.5, executing_stale_s=3.0, recovery_backoff_max_s=2.0
    )
    async with running_app(create_app(settings)) as order:
        orders = [await checkout(order, [1, 2], member=4242) for _ in range(60)]
        keys = [await emulator.authorise(o["orderId"], o["amount"]) for o in orders]
        approved_before = await emulator.approved()
        await emulator.faults(fault5xxRate=0.1, faultTimeoutRate=0.1, faultDropRate=0.1, hangS=1.0)
        limit = asyncio.Semaphore(20)

        async def pay(o: dict[str, Any], key: str) -> int:
            async with limit:
                return (await confirm(order, key, o["orderId"], o["amount"])).status_code

        codes = await asyncio.gather(*(pay(o, k) for o, k in zip(orders, keys, strict=True)))
        assert set(codes) <= {200, 202}
        await emulator.faults(fault5xxRate=0.0, faultTimeoutRate=0.0, faultDropRate=0.0)

        async def statuses() -> list[str]:
            return [(await status_of(order, o["orderId"]))["status"] for o in orders]

        final = await eventually(statuses, lambda s: all(x == "SUCCESS" for x in s), timeout_s=90)
    assert final.count("SUCCESS") == len(orders)  # every buyer authorised: every order is paid, none failed
    assert await emulator.approved() - approved_before == len(orders)
    async with order_db.engine.connect() as conn:
        events = (
            await conn.execute(
                text(
                    "SELECT COUNT(*) FROM outbox o JOIN payment_events e ON e.order_id = o.message_key "
                    "WHERE e.member_no = 4242 AND o.event_type = 'PAYMENT_CONFIRM'"
                )
            )
        ).scalar_one()
    assert events == len(orders)

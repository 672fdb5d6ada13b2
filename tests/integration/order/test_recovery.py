"""Payments in doubt: verdicts only on the PSP's evidence — never FAILURE by a count of attempts.

Real MariaDB, the broker and the Toss emulator over HTTP; the order app runs its recovery worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, checkout, confirm, published_confirms
from tests.support import dead_url, eventually, running_app


async def status_of(order: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await order.get(f"/api/payments/{order_id}")).json()
    return body


async def reasons(db: Database, order_id: str) -> list[str]:
    """History reasons of the order's first line, oldest first."""
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT h.reason FROM payment_order_histories h JOIN payment_orders o USING (payment_order_no)"
                " WHERE o.order_id = :o AND o.payment_order_no = (SELECT MIN(payment_order_no) FROM payment_orders"
                " WHERE order_id = :o) ORDER BY h.payment_order_history_no"
            ),
            {"o": order_id},
        )
        return [str(r.reason) for r in rows]


async def confirm_events(db: Database, order_id: str) -> int:
    async with db.engine.connect() as conn:
        found = await conn.execute(
            text("SELECT COUNT(*) FROM outbox WHERE message_key = :o AND event_type = 'PAYMENT_CONFIRM'"),
            {"o": order_id},
        )
        return int(found.scalar_one())


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


async def test_a_key_the_psp_never_saw_fails_only_after_the_authorisation_window(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator
) -> None:
    settings = order_settings(
        toss_api_url=emulator_url, psp_confirm_deadline_s=1.0, authorization_window_s=3.0,
        recovery_backoff_base_s=0.2, recovery_backoff_max_s=0.5, psp_max_attempts=1, psp_read_timeout_s=0.5,
    )  # fmt: skip
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [1])
        # The confirm's answer and its lookup are lost: in doubt (a refused key would simply be released).
        await emulator.faults(faultTimeoutRate=1.0, faultLookups=True, hangS=1.0)
        response = await confirm(order, "tgen_made_up_key_0001", created["orderId"], created["amount"])
        assert response.status_code == 202, response.text
        await emulator.faults(faultTimeoutRate=0.0, faultLookups=False)
        started = time.monotonic()  # from now on the PSP says "no such payment": evidence, not yet a verdict
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "FAILURE", timeout_s=20
        )
        assert time.monotonic() - started >= 2.0
    assert result["failure"]["code"] == "NOT_FOUND_PAYMENT"


async def make_in_doubt(db: Database, order_id: str, payment_key: str) -> None:
    """The state a confirm whose answer was lost leaves: UNKNOWN, with the key, due now."""
    async with db.uow() as uow:
        await uow.conn.execute(
            text("UPDATE payment_orders SET payment_order_status = 'UNKNOWN' WHERE order_id = :o"), {"o": order_id}
        )
        await uow.conn.execute(
            text(
                "UPDATE payment_events SET payment_key = :k, confirm_started_at = UTC_TIMESTAMP(3),"
                " in_doubt_since = UTC_TIMESTAMP(3), next_attempt_at = UTC_TIMESTAMP(3) WHERE order_id = :o"
            ),
            {"k": payment_key, "o": order_id},
        )
        await uow.commit()


@pytest.mark.parametrize("cancel_fails_first", [False, True])
async def test_an_approval_for_another_amount_is_cancelled_at_the_psp_before_the_order_fails(
    order_settings: Callable[..., OrderSettings],
    emulator_url: str,
    emulator: Emulator,
    order_db: Database,
    cancel_fails_first: bool,
) -> None:
    settings = order_settings(toss_api_url=emulator_url, quarantine_recheck_s=1.0, psp_max_attempts=1)
    async with running_app(create_app(settings)) as order:
        created = await checkout(order, [1, 2])  # 3,000 won
        key = await emulator.authorise(created["orderId"], 2500)  # the buyer was charged another amount
        done = await emulator.client.post(
            "/v1/payments/confirm",
            json={"paymentKey": key, "orderId": created["orderId"], "amount": 2500},
            auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""),
        )
        assert done.json()["status"] == "DONE"
        canceled_before = int((await emulator.stats())["canceled"])
        if cancel_fails_first:
            await emulator.faults(fault5xxRate=1.0)  # POSTs fail, lookups still answer
        await make_in_doubt(order_db, created["orderId"], key)
        if cancel_fails_first:
            await eventually(
                lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "QUARANTINED", timeout_s=20
            )
            await emulator.faults(fault5xxRate=0.0)
        result = await eventually(
            lambda: status_of(order, created["orderId"]), lambda r: r["status"] == "FAILURE", timeout_s=20
        )
        lookup = await emulator.client.get(f"/v1/payments/{key}", auth=("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", ""))
    assert result["failure"]["code"] == "PSP_AMOUNT_MISMATCH"
    assert lookup.json()["status"] == "CANCELED"
    assert int((await emulator.stats())["canceled"]) == canceled_before + 1  # cancelled exactly once
    assert await confirm_events(order_db, created["orderId"]) == 0


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

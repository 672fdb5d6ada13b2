"""Fault injection: 5xx and timeouts do nothing and are not stored; a drop approves, stores, then hangs.

The timeout and drop cases run the emulator over real HTTP so that the caller's read timeout really fires.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from tests.integration.toss_emulator.conftest import ADMIN, FakeClock, Toss, error
from tests.support import eventually, running_app, served_app

REPLAYED = "x-emulator-replayed"


@pytest.fixture
async def served(emulator_app: Callable[..., Any], clock: FakeClock) -> AsyncIterator[Toss]:
    """The emulator on a real port; the client gives up reading after 0.3 s (the hang is 1.5 s)."""
    async with served_app(emulator_app(hang_s=1.5)) as url:
        timeout = httpx.Timeout(5.0, read=0.3)
        async with httpx.AsyncClient(base_url=url, timeout=timeout) as http:
            yield Toss(http, clock)


async def test_the_faults_start_from_the_settings_and_change_partially_at_run_time(
    emulator_app: Callable[..., Any],
) -> None:
    app = emulator_app(latency_ms_min=100, latency_ms_max=300, fault_5xx_rate=0.1, hang_s=7)
    async with running_app(app) as http:
        assert (await http.get("/emulator/faults", headers=ADMIN)).json() == {
            "latencyMsMin": 100,
            "latencyMsMax": 300,
            "fault5xxRate": 0.1,
            "faultTimeoutRate": 0.0,
            "faultDropRate": 0.0,
            "hangS": 7.0,
            "faultLookups": False,
        }
        change = {"faultDropRate": 0.2, "latencyMsMax": 400}
        changed = (await http.put("/emulator/faults", json=change, headers=ADMIN)).json()
        assert (changed["fault5xxRate"], changed["faultDropRate"], changed["latencyMsMax"]) == (0.1, 0.2, 400)
        assert (await http.get("/emulator/faults", headers=ADMIN)).json() == changed


@pytest.mark.parametrize(
    "change",
    [
        {"latencyMsMin": 500},  # above the max (0)
        {"fault5xxRate": 0.6, "faultDropRate": 0.5},  # more than 1 in total
        {"fault5xxRate": 1.5},
        {"hangS": -1},
        {"faultRate": 0.1},  # unknown field
    ],
)
async def test_an_inconsistent_fault_change_is_refused_and_changes_nothing(toss: Toss, change: dict[str, Any]) -> None:
    before = (await toss.http.get("/emulator/faults", headers=ADMIN)).json()
    response = await toss.http.put("/emulator/faults", json=change, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert (await toss.http.get("/emulator/faults", headers=ADMIN)).json() == before


async def test_a_5xx_fault_does_nothing_and_the_retry_with_the_same_key_executes(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.faults(fault5xxRate=1.0)
    assert error(await toss.confirm(payment, key="k-5xx")) == (500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"  # lookups are not faulted by default
    await toss.faults(fault5xxRate=0.0)
    retry = await toss.confirm(payment, key="k-5xx")
    assert retry.status_code == 200
    assert REPLAYED not in retry.headers
    stats = await toss.stats()
    assert (stats["approved"], stats["faults5xx"]) == (1, 1)


async def test_lookups_get_faults_only_when_asked_to(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.faults(fault5xxRate=1.0, faultLookups=True)
    assert error(await toss.get(payment["paymentKey"])) == (500, "FAILED_INTERNAL_SYSTEM_PROCESSING")


async def test_a_timeout_fault_hangs_then_answers_500_having_done_nothing(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.faults(faultTimeoutRate=1.0, hangS=0.05)
    assert error(await toss.confirm(payment, key="k-slow")) == (500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.stats())["faultTimeouts"] == 1


async def test_a_caller_that_times_out_on_a_hang_can_retry_with_the_same_key_at_once(served: Toss) -> None:
    payment = await served.authorise()
    await served.faults(faultTimeoutRate=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await served.confirm(payment, key="k-timeout")
    await served.faults(faultTimeoutRate=0.0)
    retry = await served.confirm(payment, key="k-timeout")  # the key is not held by the hanging request
    assert retry.status_code == 200
    assert REPLAYED not in retry.headers
    assert (await served.stats())["approved"] == 1


async def test_a_dropped_response_approves_and_the_retry_replays_the_success(served: Toss) -> None:
    payment = await served.authorise(amount=6000)
    await served.faults(faultDropRate=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await served.confirm(payment, key="k-drop")
    stats = await eventually(served.stats, lambda s: s["faultDrops"] == 1)
    assert (stats["approved"], stats["approvedAmount"]) == (1, 6000)
    assert await served.status(payment["paymentKey"]) == "DONE"  # "approved, but the response was lost"
    await served.faults(faultDropRate=0.0)
    retry = await served.confirm(payment, key="k-drop")
    assert retry.status_code == 200
    assert retry.headers[REPLAYED] == "true"
    assert retry.json()["status"] == "DONE"
    assert (await served.stats())["approved"] == 1


async def test_a_dropped_response_without_a_key_leaves_the_retry_already_processed(served: Toss) -> None:
    payment = await served.authorise()
    await served.faults(faultDropRate=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await served.confirm(payment)
    await served.faults(faultDropRate=0.0)
    assert error(await served.confirm(payment)) == (400, "ALREADY_PROCESSED_PAYMENT")


async def test_rates_below_one_fault_some_requests_and_approve_each_payment_at_most_once(toss: Toss) -> None:
    await toss.faults(fault5xxRate=0.3, faultTimeoutRate=0.0, faultDropRate=0.3, hangS=0.0)
    payments = [await toss.authorise() for _ in range(60)]
    for payment in payments:
        for _ in range(20):
            response = await toss.confirm(payment, key=f"k-{payment['orderId']}")
            if response.status_code == 200:
                break
    stats = await toss.stats()
    assert stats["approved"] == 60
    assert stats["faults5xx"] > 0
    assert stats["faultDrops"] > 0
    assert stats["confirmRequests"] == 60 + stats["faults5xx"]


async def test_a_5xx_fault_on_a_cancel_does_nothing_and_the_retry_with_the_same_key_cancels(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.confirm(payment)
    await toss.faults(fault5xxRate=1.0)
    failed = await toss.cancel(payment["paymentKey"], key="refund-5xx", cancelReason="x", cancelAmount=2000)
    assert error(failed) == (500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    assert (await toss.get(payment["paymentKey"])).json()["balanceAmount"] == 6000
    await toss.faults(fault5xxRate=0.0)
    retry = await toss.cancel(payment["paymentKey"], key="refund-5xx", cancelReason="x", cancelAmount=2000)
    assert (retry.status_code, retry.json()["balanceAmount"]) == (200, 4000)
    assert REPLAYED not in retry.headers
    stats = await toss.stats()
    assert (stats["canceled"], stats["cancelRequests"], stats["faults5xx"]) == (1, 2, 1)


async def test_a_dropped_cancel_answer_cancels_once_and_the_retry_replays_it(served: Toss) -> None:
    """The cancel-in-doubt case: the refund happened at the PSP, the shop never heard; retrying with the same
    key (even at once: within the one-second rule) answers the first cancel again, and refunds nothing more."""
    payment = await served.authorise(amount=6000)
    await served.confirm(payment)
    await served.faults(faultDropRate=1.0)
    with pytest.raises(httpx.ReadTimeout):
        await served.cancel(payment["paymentKey"], key="refund-drop", cancelReason="x", cancelAmount=2000)
    stats = await eventually(served.stats, lambda s: s["faultDrops"] == 1)
    assert (stats["canceled"], stats["canceledAmount"]) == (1, 2000)
    await served.faults(faultDropRate=0.0)
    retry = await served.cancel(payment["paymentKey"], key="refund-drop", cancelReason="x", cancelAmount=2000)
    assert (retry.status_code, retry.headers[REPLAYED]) == (200, "true")
    assert (retry.json()["status"], retry.json()["balanceAmount"], len(retry.json()["cancels"])) == (
        "PARTIAL_CANCELED",
        4000,
        1,
    )
    assert (await served.stats())["canceled"] == 1

"""The caps on the emulator's stores over its API (bounds.py), in memory and in the state file: payments (the
oldest finished go; all in progress: 503, nothing stored), stored idempotent responses and pending webhooks
(the oldest go), cancels of one payment (NOT_CANCELABLE_PAYMENT)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from tests.integration.toss_emulator.conftest import ADMIN, CLIENT_KEY, FakeClock, Toss, error, new_order_id
from tests.support import dead_port, running_app

REPLAYED = "x-emulator-replayed"


async def test_a_full_book_of_payments_in_progress_refuses_the_next_with_503_and_keeps_them_all(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with running_app(emulator_app(max_payments=3)) as http:
        toss = Toss(http, clock)
        kept = [await toss.authorise() for _ in range(3)]
        body = {"orderId": new_order_id(), "amount": 6000, "orderName": "상품A"}
        refused = await http.post("/emulator/payments", json=body)
        assert error(refused) == (503, "EMULATOR_FULL")
        assert refused.headers["retry-after"] == "1800"  # when the oldest in progress expires (expire_after_s)
        window = await http.post("/emulator/window", content=_window_form(), headers=_FORM)
        assert (window.status_code, "location" in window.headers) == (503, False)
        assert 'id="error-code">EMULATOR_FULL<' in window.text
        stats = await toss.stats()
        assert (stats["payments"], stats["authorized"]) == (3, 3)
        assert [await toss.status(p["paymentKey"]) for p in kept] == ["IN_PROGRESS"] * 3


async def test_the_oldest_finished_payment_makes_room_and_the_ones_in_progress_stay(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with running_app(emulator_app(max_payments=3)) as http:
        toss = Toss(http, clock)
        first, second, third = [await toss.authorise() for _ in range(3)]
        assert error(await http.post("/emulator/payments", json=_order())) == (503, "EMULATOR_FULL")
        assert (await toss.confirm(second)).status_code == 200  # finished: it may go now
        fourth = await toss.authorise()
        assert error(await toss.get(second["paymentKey"])) == (404, "NOT_FOUND_PAYMENT")
        for payment in (first, third, fourth):
            assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
        assert (await toss.stats())["payments"] == 3


async def test_payments_in_progress_past_their_expiry_make_room(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with running_app(emulator_app(max_payments=2)) as http:
        toss = Toss(http, clock)
        old = await toss.authorise()
        clock.advance(1000)
        young = await toss.authorise()
        assert error(await http.post("/emulator/payments", json=_order())) == (503, "EMULATOR_FULL")
        clock.advance(800)  # the old one expired (30 minutes), the young one did not
        await toss.authorise()
        assert error(await toss.get(old["paymentKey"])) == (404, "NOT_FOUND_PAYMENT")
        assert await toss.status(young["paymentKey"]) == "IN_PROGRESS"


async def test_only_the_newest_stored_responses_are_kept_and_an_older_key_executes_again(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with running_app(emulator_app(max_stored_responses=2)) as http:
        toss = Toss(http, clock)
        payments = [await toss.authorise() for _ in range(3)]
        for n, payment in enumerate(payments):
            assert (await toss.confirm(payment, key=f"k-{n}")).status_code == 200
        assert (await toss.stats())["storedResponses"] == 2
        newest = await toss.confirm(payments[2], key="k-2")
        assert (newest.status_code, newest.headers.get(REPLAYED)) == (200, "true")
        oldest = await toss.confirm(payments[0], key="k-0")
        assert error(oldest) == (400, "ALREADY_PROCESSED_PAYMENT")
        assert REPLAYED not in oldest.headers
        assert (await toss.stats())["approved"] == 3


async def test_past_the_cap_the_oldest_pending_webhooks_are_dropped_and_counted(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    url = f"http://127.0.0.1:{dead_port()}/api/webhooks/toss"
    async with running_app(emulator_app(webhook_url=url, max_pending_webhooks=2)) as http:
        toss = Toss(http, clock)
        for _ in range(3):
            assert (await toss.confirm(await toss.authorise())).status_code == 200
        stats = await toss.stats()
    assert (stats["webhookEvents"], stats["webhooksPending"], stats["webhooksDropped"]) == (3, 2, 1)


async def test_a_payment_takes_at_most_its_cap_of_cancels(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    async with running_app(emulator_app(max_cancels_per_payment=2, cancel_interval_s=0)) as http:
        toss = Toss(http, clock)
        payment = await toss.authorise(amount=6000)
        assert (await toss.confirm(payment)).status_code == 200
        for _ in range(2):
            assert (await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=1000)).status_code == 200
        third = await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=1000)
        assert error(third) == (403, "NOT_CANCELABLE_PAYMENT")
        outside = await toss.cancel_outside(payment["paymentKey"], cancelAmount=1000)
        assert error(outside) == (403, "NOT_CANCELABLE_PAYMENT")
        body = (await toss.get(payment["paymentKey"])).json()
        assert (body["status"], body["balanceAmount"], len(body["cancels"])) == ("PARTIAL_CANCELED", 4000, 2)
        assert (await toss.stats())["canceled"] == 2


async def test_reset_empties_a_full_book(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    async with running_app(emulator_app(max_payments=1)) as http:
        toss = Toss(http, clock)
        await toss.authorise()
        assert error(await http.post("/emulator/payments", json=_order())) == (503, "EMULATOR_FULL")
        assert (await http.post("/emulator/reset", headers=ADMIN)).status_code == 204
        await toss.authorise()


_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _order() -> dict[str, Any]:
    return {"orderId": new_order_id(), "amount": 6000, "orderName": "상품A"}


def _window_form() -> str:
    return urlencode({"clientKey": CLIENT_KEY, "method": "카드", "amount": "6000", "orderId": new_order_id(),
                      "orderName": "상품A", "successUrl": "http://localhost:8080/s", "failUrl": "http://localhost:8080/f",
                      "action": "pay", "cardNumber": "4111-1111-1111-1111", "cardExpiry": "12/30"})  # fmt: skip

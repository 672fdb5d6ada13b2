"""POST /v1/payments/{paymentKey}/cancel over HTTP: partial and full cancels, the cancels[] entries, Toss's
refusals, Idempotency-Key replays, and "of two cancels within a second only the first is processed"."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.toss_emulator.conftest import Toss, basic, error
from tests.support import eventually

REPLAYED = "x-emulator-replayed"
CANCEL_FIELDS = {
    "transactionKey",
    "cancelReason",
    "taxExemptionAmount",
    "canceledAt",
    "easyPayDiscountAmount",
    "receiptKey",
    "cancelAmount",
    "taxFreeAmount",
    "refundableAmount",
    "cancelStatus",
    "cancelRequestId",
}


async def paid(toss: Toss, amount: int = 6000) -> dict[str, Any]:
    payment = await toss.authorise(amount=amount)
    assert (await toss.confirm(payment)).status_code == 200
    return payment


async def test_pay_6000_cancel_2000_leaves_a_partial_cancel_with_balance_4000(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    response = await toss.cancel(payment["paymentKey"], cancelReason="고객 변심", cancelAmount=2000)
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["totalAmount"], body["balanceAmount"]) == ("PARTIAL_CANCELED", 6000, 4000)
    assert (body["suppliedAmount"], body["vat"]) == (3636, 364)
    [cancel] = body["cancels"]
    assert set(cancel) == CANCEL_FIELDS
    assert (cancel["cancelAmount"], cancel["cancelReason"], cancel["refundableAmount"]) == (2000, "고객 변심", 4000)
    assert (cancel["cancelStatus"], cancel["taxFreeAmount"], cancel["taxExemptionAmount"]) == ("DONE", 0, 0)
    assert cancel["canceledAt"] == "2025-01-10T20:29:30+09:00"
    assert cancel["transactionKey"] == body["lastTransactionKey"]
    assert body["card"]["acquireStatus"] == "CANCEL_REQUESTED"
    assert (await toss.get(payment["paymentKey"])).json() == body
    stats = await toss.stats()
    assert (stats["canceled"], stats["canceledAmount"], stats["cancelRequests"]) == (1, 2000, 1)


async def test_the_same_idempotency_key_answers_the_same_cancel_and_cancels_nothing_more(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    first = await toss.cancel(payment["paymentKey"], key="refund-1", cancelReason="부분", cancelAmount=2000)
    toss.clock.advance(5)  # past the one-second rule: the replay is not a refusal either
    again = await toss.cancel(payment["paymentKey"], key="refund-1", cancelReason="부분", cancelAmount=2000)
    other_body = await toss.cancel(payment["paymentKey"], key="refund-1", cancelReason="다른", cancelAmount=10)
    assert first.status_code == again.status_code == other_body.status_code == 200
    assert first.content == again.content == other_body.content  # the body is not part of the key's scope
    assert (REPLAYED not in first.headers, again.headers[REPLAYED]) == (True, "true")
    now = (await toss.get(payment["paymentKey"])).json()
    assert (now["balanceAmount"], len(now["cancels"])) == (4000, 1)
    stats = await toss.stats()
    assert (stats["canceled"], stats["canceledAmount"], stats["replayed"]) == (1, 2000, 2)


async def test_a_twin_cancel_while_the_first_is_in_flight_gets_409_then_the_replay(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    await toss.faults(latencyMsMin=300, latencyMsMax=300)
    first = asyncio.create_task(toss.cancel(payment["paymentKey"], key="slow", cancelReason="x", cancelAmount=2000))
    await eventually(toss.stats, lambda s: s["inFlight"] == 1)
    twin = await toss.cancel(payment["paymentKey"], key="slow", cancelReason="x", cancelAmount=2000)
    assert error(twin) == (409, "IDEMPOTENT_REQUEST_PROCESSING")
    assert (await first).status_code == 200
    replay = await toss.cancel(payment["paymentKey"], key="slow", cancelReason="x", cancelAmount=2000)
    assert (replay.status_code, replay.headers[REPLAYED], replay.json()["balanceAmount"]) == (200, "true", 4000)
    assert (await toss.stats())["canceled"] == 1


async def test_cancelling_the_rest_cancels_the_payment_with_two_cancels(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=2000)
    toss.clock.advance(1)
    response = await toss.cancel(payment["paymentKey"], cancelReason="나머지")  # no amount: the rest
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["balanceAmount"], body["vat"], body["card"]["acquireStatus"]) == (
        "CANCELED",
        0,
        0,
        "CANCELED",
    )
    assert [(c["cancelAmount"], c["refundableAmount"]) for c in body["cancels"]] == [(2000, 4000), (4000, 0)]
    assert body["lastTransactionKey"] == body["cancels"][1]["transactionKey"] != body["cancels"][0]["transactionKey"]
    toss.clock.advance(1)
    assert error(await toss.cancel(payment["paymentKey"], cancelReason="또")) == (400, "ALREADY_CANCELED_PAYMENT")
    stats = await toss.stats()
    assert (stats["canceled"], stats["canceledAmount"], stats["cancelRequests"]) == (2, 6000, 3)


async def test_more_than_the_balance_or_a_wrong_refundable_amount_is_refused(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    key = payment["paymentKey"]
    assert error(await toss.cancel(key, cancelReason="x", cancelAmount=6001)) == (403, "NOT_CANCELABLE_AMOUNT")
    await toss.cancel(key, cancelReason="부분", cancelAmount=2000)
    toss.clock.advance(1)
    assert error(await toss.cancel(key, cancelReason="x", cancelAmount=4001)) == (403, "NOT_CANCELABLE_AMOUNT")
    wrong = await toss.cancel(key, cancelReason="x", cancelAmount=1000, refundableAmount=6000)
    assert error(wrong) == (400, "NOT_MATCHES_REFUNDABLE_AMOUNT")
    right = await toss.cancel(key, cancelReason="x", cancelAmount="4000", refundableAmount=4000)
    assert (right.status_code, right.json()["status"]) == (200, "CANCELED")


async def test_concurrent_cancels_within_a_second_process_only_the_first(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    await toss.faults(latencyMsMin=30, latencyMsMax=60)  # all five are in flight together
    responses = await asyncio.gather(
        *(toss.cancel(payment["paymentKey"], key=f"c-{i}", cancelReason="동시", cancelAmount=1000) for i in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 403, 403, 403, 403]
    assert {error(r) for r in responses if r.status_code != 200} == {(403, "FORBIDDEN_CONSECUTIVE_REQUEST")}
    now = (await toss.get(payment["paymentKey"])).json()
    assert (now["status"], now["balanceAmount"], len(now["cancels"])) == ("PARTIAL_CANCELED", 5000, 1)
    stats = await toss.stats()
    assert (stats["canceled"], stats["canceledAmount"], stats["storedResponses"]) == (1, 1000, 1)


async def test_a_cancel_refused_as_too_soon_is_not_stored_so_its_key_works_a_second_later(toss: Toss) -> None:
    payment = await paid(toss, 6000)
    await toss.cancel(payment["paymentKey"], key="first", cancelReason="부분", cancelAmount=1000)
    toss.clock.advance(0.5)
    too_soon = await toss.cancel(payment["paymentKey"], key="second", cancelReason="부분", cancelAmount=1000)
    assert error(too_soon) == (403, "FORBIDDEN_CONSECUTIVE_REQUEST")
    toss.clock.advance(0.5)
    later = await toss.cancel(payment["paymentKey"], key="second", cancelReason="부분", cancelAmount=1000)
    assert (later.status_code, later.json()["balanceAmount"]) == (200, 4000)
    assert REPLAYED not in later.headers


async def test_a_payment_that_is_not_done_cannot_be_canceled(toss: Toss) -> None:
    payment = await toss.authorise()
    assert error(await toss.cancel(payment["paymentKey"], cancelReason="x")) == (403, "NOT_CANCELABLE_PAYMENT")
    assert error(await toss.cancel("tgen_unknown", cancelReason="x")) == (404, "NOT_FOUND_PAYMENT")
    aborted = await toss.authorise(confirmErrors=["REJECT_CARD_PAYMENT"])
    await toss.confirm(aborted)
    assert error(await toss.cancel(aborted["paymentKey"], cancelReason="x")) == (403, "NOT_CANCELABLE_PAYMENT")


async def test_a_cancel_needs_a_reason_and_a_whole_positive_amount(toss: Toss) -> None:
    payment = await paid(toss)
    for body in ({}, {"cancelReason": "  "}, {"cancelReason": "x", "cancelAmount": 0}, {"cancelReason": "x" * 201}):
        assert error(await toss.cancel(payment["paymentKey"], **body)) == (400, "INVALID_REQUEST")
    assert error(await toss.cancel(payment["paymentKey"], cancelReason="x", cancelAmount=10.5)) == (
        400,
        "INVALID_REQUEST",
    )
    # a lone surrogate ("\\ud800" in JSON) is no text: stored, it would have broken every later lookup (500)
    not_text = toss.http.post(
        f"/v1/payments/{payment['paymentKey']}/cancel", content=b'{"cancelReason": "\\ud800"}', headers=basic()
    )
    assert error(await not_text) == (400, "INVALID_REQUEST")
    assert await toss.status(payment["paymentKey"]) == "DONE"


async def test_a_forced_cancel_error_and_english_messages(toss: Toss) -> None:
    payment = await paid(toss)
    headers = {**basic(), "TossPayments-Test-Code": "FAILED_REFUND_PROCESS", "Accept-Language": "en-US"}
    forced = await toss.http.post(
        f"/v1/payments/{payment['paymentKey']}/cancel", json={"cancelReason": "x"}, headers=headers
    )
    assert error(forced) == (500, "FAILED_REFUND_PROCESS")
    assert forced.json()["message"].startswith("The refund failed")
    assert await toss.status(payment["paymentKey"]) == "DONE"

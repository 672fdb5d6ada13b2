"""/emulator/payments (the window without a browser, with injected confirm errors), stats and reset."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.toss_emulator.conftest import ADMIN, Toss, error, new_order_id

REPLAYED = "x-emulator-replayed"


async def authorise(toss: Toss, **body: Any) -> Any:
    return await toss.http.post(
        "/emulator/payments", json={"orderId": new_order_id(), "amount": 6000, "orderName": "상품A", **body}
    )


async def test_the_default_card_approves_and_returns_the_key_order_and_amount(toss: Toss) -> None:
    order_id = new_order_id()
    response = await toss.http.post(
        "/emulator/payments", json={"orderId": order_id, "amount": "6000.00", "orderName": "상품A"}
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"paymentKey", "orderId", "amount"}
    assert (body["orderId"], body["amount"]) == (order_id, 6000)
    assert await toss.status(body["paymentKey"]) == "IN_PROGRESS"


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        ("4000-0000-0000-0002", (403, "REJECT_CARD_COMPANY")),
        ("4000-0000-0000-0069", (400, "INVALID_CARD_EXPIRATION")),
        ("4000-0000-0000-9995", (400, "EXCEED_MAX_PAYMENT_AMOUNT")),
        ("4111-1111-1111-1112", (400, "INVALID_CARD_NUMBER")),
    ],
)
async def test_each_declining_card_answers_its_toss_error(toss: Toss, card: str, expected: tuple[int, str]) -> None:
    assert error(await authorise(toss, cardNumber=card)) == expected
    stats = await toss.stats()
    assert (stats["authorized"], stats["declined"], stats["payments"]) == (0, 1, 0)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"orderId": "short"}, "INVALID_ORDER_ID"),
        ({"amount": 0}, "INVALID_AMOUNT_VALUE"),
        ({"amount": "lots"}, "INVALID_AMOUNT_VALUE"),
        ({"orderName": None}, "INVALID_ORDER_NAME"),
        ({"confirmErrors": ["NOT_A_CODE"]}, "INVALID_REQUEST"),
    ],
)
async def test_a_bad_authorisation_is_a_400_with_a_code(toss: Toss, body: dict[str, Any], code: str) -> None:
    assert error(await authorise(toss, **body)) == (400, code)


async def test_an_order_name_that_is_not_text_is_refused_and_authorises_nothing(toss: Toss) -> None:
    """Found while fuzzing: a lone surrogate ("\\ud800" in JSON) was stored, and every later lookup, confirm
    or cancel of that payment failed with a 500 (its orderName could not be written as JSON)."""
    order_id = new_order_id()
    body = f'{{"orderId": "{order_id}", "amount": 6000, "orderName": "상품\\ud800"}}'.encode()
    response = await toss.http.post("/emulator/payments", content=body, headers={"Content-Type": "application/json"})
    assert error(response) == (400, "INVALID_ORDER_NAME")
    assert (await toss.stats())["payments"] == 0


async def test_transient_confirm_errors_fail_the_next_attempts_then_the_same_key_succeeds(toss: Toss) -> None:
    payment = (await authorise(toss, confirmErrors=["PROVIDER_ERROR", "PROVIDER_ERROR"])).json()
    for _ in range(2):
        assert error(await toss.confirm(payment, key="k-retry")) == (400, "PROVIDER_ERROR")
        assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    third = await toss.confirm(payment, key="k-retry")
    assert third.status_code == 200
    assert REPLAYED not in third.headers
    assert (await toss.stats())["approved"] == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [("FAILED_INTERNAL_SYSTEM_PROCESSING", 500), ("CARD_PROCESSING_ERROR", 400), ("UNKNOWN_PAYMENT_ERROR", 500)],
)
async def test_each_retryable_confirm_error_answers_its_status_once(toss: Toss, code: str, status: int) -> None:
    payment = (await authorise(toss, confirmErrors=[code])).json()
    assert error(await toss.confirm(payment)) == (status, code)
    assert (await toss.confirm(payment)).status_code == 200


async def test_a_final_confirm_error_aborts_the_payment_and_is_replayed(toss: Toss) -> None:
    payment = (await authorise(toss, confirmErrors=["REJECT_CARD_PAYMENT"])).json()
    first = await toss.confirm(payment, key="k-final")
    assert error(first) == (403, "REJECT_CARD_PAYMENT")
    again = await toss.confirm(payment, key="k-final")
    assert again.content == first.content
    assert again.headers[REPLAYED] == "true"
    body = (await toss.get(payment["paymentKey"])).json()
    assert (body["status"], body["failure"]["code"]) == ("ABORTED", "REJECT_CARD_PAYMENT")
    assert error(await toss.confirm(payment)) == (403, "REJECT_CARD_PAYMENT")
    assert (await toss.stats())["approved"] == 0


async def test_an_aborted_order_id_may_be_authorised_again(toss: Toss) -> None:
    order_id = new_order_id()
    first = (await authorise(toss, orderId=order_id, confirmErrors=["INVALID_STOPPED_CARD"])).json()
    assert error(await toss.confirm(first)) == (400, "INVALID_STOPPED_CARD")
    second = (await authorise(toss, orderId=order_id)).json()
    assert (await toss.confirm(second)).status_code == 200


async def test_stats_count_authorisations_confirms_approvals_and_cancels(toss: Toss) -> None:
    paid = await toss.authorise(amount=6000)
    other = await toss.authorise(amount=2000)
    await toss.confirm(paid)
    await toss.confirm(other)
    await toss.confirm(other)
    await toss.cancel(paid["paymentKey"], cancelReason="x")
    stats = await toss.stats()
    assert {k: stats[k] for k in ("authorized", "approved", "approvedAmount", "confirmRequests", "canceled")} == {
        "authorized": 2,
        "approved": 2,
        "approvedAmount": 8000,
        "confirmRequests": 3,
        "canceled": 1,
    }


async def test_reset_forgets_payments_stored_responses_counters_and_fault_changes(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.confirm(payment, key="k-reset")
    await toss.faults(fault5xxRate=0.5)
    assert (await toss.http.post("/emulator/reset", headers=ADMIN)).status_code == 204
    assert error(await toss.get(payment["paymentKey"])) == (404, "NOT_FOUND_PAYMENT")
    stats = await toss.stats()
    assert all(value == 0 for value in stats.values()), stats
    assert (await toss.http.get("/emulator/faults", headers=ADMIN)).json()["fault5xxRate"] == 0.0

"""The Toss client's retry policy against scripted HTTP answers (unit level: httpx.MockTransport)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from kiwishop.order.domain import PaymentStatus
from kiwishop.order.psp import TossClient

Answer = Callable[[httpx.Request], httpx.Response]
AMOUNT = Decimal("6000.00")


def done(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={"paymentKey": "pk_1", "orderId": "order-1", "status": "DONE", "totalAmount": 6000,
              "approvedAt": "2026-11-25T11:40:58+09:00"},
    )  # fmt: skip


def error(status: int, code: str) -> Answer:
    return lambda request: httpx.Response(status, json={"code": code, "message": code.lower()})


def timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


class Script:
    """Answers requests in order; remembers every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)(request)


def client(script: Script) -> TossClient:
    http = httpx.AsyncClient(
        base_url="http://psp", transport=httpx.MockTransport(script), auth=httpx.BasicAuth("test_sk_x", "")
    )
    return TossClient(http, max_attempts=3, retry_base_s=0.001)


async def test_a_confirm_sends_basic_auth_with_a_trailing_colon_an_integer_amount_and_the_order_key() -> None:
    script = Script(done)
    result = await client(script).confirm("pk_1", "order-1", AMOUNT)
    assert result.status is PaymentStatus.SUCCESS
    request = script.requests[0]
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"test_sk_x:").decode()
    assert request.headers["idempotency-key"] == "confirm-order-1"
    assert request.content == b'{"paymentKey":"pk_1","orderId":"order-1","amount":6000}'


async def test_a_decline_is_final_and_not_retried() -> None:
    script = Script(error(403, "REJECT_CARD_COMPANY"))
    result = await client(script).confirm("pk_1", "order-1", AMOUNT)
    assert (result.status, result.code) == (PaymentStatus.FAILURE, "REJECT_CARD_COMPANY")
    assert len(script.requests) == 1


async def test_retryable_errors_are_retried_with_the_same_key_until_success() -> None:
    script = Script(error(400, "PROVIDER_ERROR"), error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING"), done)
    result = await client(script).confirm("pk_1", "order-1", AMOUNT)
    assert result.status is PaymentStatus.SUCCESS
    assert {r.headers["idempotency-key"] for r in script.requests} == {"confirm-order-1"}
    assert len(script.requests) == 3


@pytest.mark.parametrize(
    "answer",
    [timeout, error(500, "UNKNOWN_PAYMENT_ERROR"), error(502, "BAD_GATEWAY"), lambda r: httpx.Response(503, text="")],
)
async def test_timeouts_and_5xx_end_unknown_after_the_attempts(answer: Answer) -> None:
    script = Script(answer, answer, answer)
    result = await client(script).confirm("pk_1", "order-1", AMOUNT)
    assert result.status is PaymentStatus.UNKNOWN
    assert len(script.requests) == 3


async def test_connection_errors_are_unknown_not_failures() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = await client(Script(refuse, refuse, refuse)).confirm("pk_1", "order-1", AMOUNT)
    assert (result.status, result.code) == (PaymentStatus.UNKNOWN, "PSP_UNREACHABLE")


async def test_already_processed_is_a_success_only_if_the_lookup_says_done_for_this_order() -> None:
    good = Script(error(400, "ALREADY_PROCESSED_PAYMENT"), done)
    assert (await client(good).confirm("pk_1", "order-1", AMOUNT)).status is PaymentStatus.SUCCESS
    assert good.requests[1].method == "GET"
    assert good.requests[1].url.path == "/v1/payments/pk_1"

    other_amount = Script(
        error(400, "ALREADY_PROCESSED_PAYMENT"),
        lambda r: httpx.Response(200, json={**done(r).json(), "totalAmount": 1}),
    )
    assert (await client(other_amount).confirm("pk_1", "order-1", AMOUNT)).status is PaymentStatus.UNKNOWN


async def test_an_in_flight_answer_is_asked_again_without_spending_an_attempt() -> None:
    in_flight = error(409, "IDEMPOTENT_REQUEST_PROCESSING")
    script = Script(in_flight, in_flight, in_flight, in_flight, done)
    result = await client(script).confirm("pk_1", "order-1", AMOUNT)
    assert result.status is PaymentStatus.SUCCESS
    assert len(script.requests) == 5


async def test_a_200_that_is_not_a_payment_is_in_doubt() -> None:
    result = await client(Script(lambda r: httpx.Response(200, text="<html>"))).confirm("pk_1", "order-1", AMOUNT)
    assert (result.status, result.code) == (PaymentStatus.UNKNOWN, "PSP_MALFORMED")


async def test_recovery_confirms_an_authorised_but_unconfirmed_payment() -> None:
    authorised = Script(lambda r: httpx.Response(200, json={**done(r).json(), "status": "IN_PROGRESS"}), done)
    result = await client(authorised).recover("order-1", AMOUNT, "pk_1")
    assert result.status is PaymentStatus.SUCCESS
    assert [r.method for r in authorised.requests] == ["GET", "POST"]


async def test_recovery_of_a_payment_the_psp_never_saw_is_a_failure() -> None:
    result = await client(Script(error(404, "NOT_FOUND_PAYMENT"))).recover("order-1", AMOUNT, "pk_1")
    assert (result.status, result.code) == (PaymentStatus.FAILURE, "NOT_FOUND_PAYMENT")

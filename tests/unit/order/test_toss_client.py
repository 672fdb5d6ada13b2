"""The Toss client's retry policy against scripted answers (unit level: a fake HTTP port)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from kiwishop.order.domain import compensation_key
from kiwishop.order.psp import TossClient
from kiwishop.order.verdicts import Evidence
from kiwishop.platform.httpclient import HttpError, HttpResponse, HttpTimeout

AMOUNT = Decimal("6000.00")
COMPENSATION = compensation_key("order-1", "pk_1")
DONE = {
    "paymentKey": "pk_1", "orderId": "order-1", "status": "DONE", "totalAmount": 6000,
    "approvedAt": "2026-11-25T11:40:58+09:00",
}  # fmt: skip


@dataclass
class Sent:
    method: str
    path: str
    json: Any
    headers: dict[str, str]


Answer = Callable[[Sent], HttpResponse]


def body(status: int, payload: Any) -> Answer:
    return lambda sent: HttpResponse(status, json.dumps(payload).encode(), {})


def done(**overrides: Any) -> Answer:
    return body(200, {**DONE, **overrides})


def error(status: int, code: str) -> Answer:
    return body(status, {"code": code, "message": code.lower()})


def raises(exc: Exception) -> Answer:
    def answer(sent: Sent) -> HttpResponse:
        raise exc

    return answer


@dataclass
class FakeHttp:
    """Shaped like platform.httpclient.HttpClient; answers in order and remembers every request."""

    answers: list[Answer]
    sent: list[Sent] = field(default_factory=list)

    async def get(self, path: str, *, params: Any = None, headers: Any = None) -> HttpResponse:
        return self._answer(Sent("GET", path, None, dict(headers or {})))

    async def post(self, path: str, *, json: Any = None, headers: Any = None) -> HttpResponse:
        return self._answer(Sent("POST", path, json, dict(headers or {})))

    def _answer(self, sent: Sent) -> HttpResponse:
        self.sent.append(sent)
        return self.answers.pop(0)(sent)


def client(*answers: Answer) -> tuple[TossClient, FakeHttp]:
    http = FakeHttp(list(answers))
    return TossClient(http, max_attempts=3, retry_base_s=0.001), http


async def test_an_approval_request_sends_an_integer_amount_and_the_orders_idempotency_key() -> None:
    toss, http = client(done())
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert result.evidence is Evidence.APPROVED
    assert http.sent[0].path == "/v1/payments/confirm"
    assert http.sent[0].headers["Idempotency-Key"] == "confirm-order-1-pk_1"
    assert http.sent[0].json == {"paymentKey": "pk_1", "orderId": "order-1", "amount": 6000}


async def test_a_decline_is_final_and_not_retried() -> None:
    toss, http = client(error(403, "REJECT_CARD_COMPANY"))
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert (result.evidence, result.code) == (Evidence.DECLINED, "REJECT_CARD_COMPANY")
    assert len(http.sent) == 1


async def test_an_approval_answered_not_found_is_evidence_not_a_decline() -> None:
    toss, http = client(error(404, "NOT_FOUND_PAYMENT"))
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert (result.evidence, result.code) == (Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT")
    assert len(http.sent) == 1


async def test_retryable_errors_are_retried_with_the_same_key_until_success() -> None:
    toss, http = client(error(400, "PROVIDER_ERROR"), error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING"), done())
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert result.evidence is Evidence.APPROVED
    assert {s.headers["Idempotency-Key"] for s in http.sent} == {"confirm-order-1-pk_1"}
    assert len(http.sent) == 3


@pytest.mark.parametrize(
    "answer",
    [
        raises(HttpTimeout("slow")),
        error(500, "UNKNOWN_PAYMENT_ERROR"),
        error(502, "BAD_GATEWAY"),
        lambda sent: HttpResponse(503, b"", {}),
    ],
)
async def test_timeouts_and_5xx_end_in_doubt_after_the_attempts(answer: Answer) -> None:
    toss, http = client(answer, answer, answer)
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert result.evidence is Evidence.IN_DOUBT
    assert len(http.sent) == 3
    assert toss.answered == 0


async def test_connection_errors_are_in_doubt_not_declines() -> None:
    refuse = raises(HttpError("refused"))
    toss, _ = client(refuse, refuse, refuse)
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert (result.evidence, result.code) == (Evidence.IN_DOUBT, "PSP_UNREACHABLE")


async def test_already_processed_is_an_approval_only_if_the_lookup_says_done_for_this_order() -> None:
    toss, http = client(error(400, "ALREADY_PROCESSED_PAYMENT"), done())
    assert (await toss.approve("pk_1", "order-1", AMOUNT)).evidence is Evidence.APPROVED
    assert (http.sent[1].method, http.sent[1].path) == ("GET", "/v1/payments/pk_1")

    toss, _ = client(error(400, "ALREADY_PROCESSED_PAYMENT"), done(totalAmount=1))
    assert (await toss.approve("pk_1", "order-1", AMOUNT)).evidence is Evidence.MISMATCH


async def test_an_in_flight_answer_is_asked_again_without_spending_an_attempt() -> None:
    in_flight = error(409, "IDEMPOTENT_REQUEST_PROCESSING")
    toss, http = client(in_flight, in_flight, in_flight, in_flight, done())
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert result.evidence is Evidence.APPROVED
    assert len(http.sent) == 5


async def test_a_200_that_is_not_a_payment_is_in_doubt() -> None:
    toss, _ = client(lambda sent: HttpResponse(200, b"<html>", {}))
    result = await toss.approve("pk_1", "order-1", AMOUNT)
    assert (result.evidence, result.code) == (Evidence.IN_DOUBT, "PSP_MALFORMED")


async def test_resolving_approves_an_authorised_but_unconfirmed_payment() -> None:
    toss, http = client(done(status="IN_PROGRESS"), done())
    result = await toss.resolve("order-1", AMOUNT, "pk_1")
    assert result.evidence is Evidence.APPROVED
    assert [s.method for s in http.sent] == ["GET", "POST"]


async def test_a_single_lookup_404_is_only_not_found_evidence() -> None:
    toss, http = client(error(404, "NOT_FOUND_PAYMENT"))
    result = await toss.resolve("order-1", AMOUNT, "pk_1")
    assert (result.evidence, result.code) == (Evidence.NOT_FOUND, "NOT_FOUND_PAYMENT")
    assert len(http.sent) == 1


async def test_lookups_that_fail_with_5xx_are_retried_then_in_doubt() -> None:
    failing = error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    toss, http = client(failing, failing, failing)
    result = await toss.resolve("order-1", AMOUNT, "pk_1")
    assert result.evidence is Evidence.IN_DOUBT
    assert [s.method for s in http.sent] == ["GET", "GET", "GET"]


async def test_a_key_that_belongs_to_another_order_is_asked_about_by_our_order_id() -> None:
    toss, http = client(done(orderId="order-2"), error(404, "NOT_FOUND_PAYMENT"))
    result = await toss.resolve("order-1", AMOUNT, "pk_1")
    assert result.evidence is Evidence.NOT_FOUND
    assert [s.path for s in http.sent] == ["/v1/payments/pk_1", "/v1/payments/orders/order-1"]


async def test_a_compensating_cancel_uses_one_key_per_order_and_payment_and_reports_the_psps_word() -> None:
    toss, http = client(done(status="CANCELED"))
    result = await toss.cancel("pk_1", "order-1", reason="mismatch", idempotency_key=COMPENSATION)
    assert (result.evidence, result.code) == (Evidence.DECLINED, "PAYMENT_CANCELED")
    assert http.sent[0].path == "/v1/payments/pk_1/cancel"
    assert http.sent[0].headers["Idempotency-Key"] == "compensate-order-1-pk_1"

    toss, _ = client(error(400, "ALREADY_CANCELED_PAYMENT"))
    assert (
        await toss.cancel("pk_1", "order-1", reason="mismatch", idempotency_key=COMPENSATION)
    ).code == "PAYMENT_CANCELED"

    failing = error(500, "FAILED_REFUND_PROCESS")
    toss, http = client(failing, failing, failing)
    assert (
        await toss.cancel("pk_1", "order-1", reason="mismatch", idempotency_key=COMPENSATION)
    ).evidence is Evidence.IN_DOUBT
    assert {s.headers["Idempotency-Key"] for s in http.sent} == {"compensate-order-1-pk_1"}

"""What an answer of the PSP to a cancel proves, how the Toss client asks (one key, in-doubt retries, refusals
final), the order's status derived from its lines, and the error code for each refusal."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from kiwishop.contracts.events import CanceledLineV1, PaymentCanceledV1
from kiwishop.order.cancellation import (
    Cancel,
    CancelStatus,
    Outcome,
    canceled_payload,
    is_refusal,
    judge_cancel,
    refusal_error,
)
from kiwishop.order.domain import OrderError, PaymentStatus, confirm_payload
from kiwishop.platform.httpclient import HttpTimeout
from tests.unit.order.fakes import an_order
from tests.unit.order.test_toss_client import body, client, error, raises

KEY = "cancel-order-1-1"


def canceled(status: str = "PARTIAL_CANCELED", amount: int = 2000, **overrides: Any) -> dict[str, Any]:
    cancel = {"cancelAmount": amount, "canceledAt": "2026-11-25T12:00:00+09:00", "cancelReason": "r"}
    return {"paymentKey": "pk_1", "orderId": "order-1", "status": status, "totalAmount": 6000,
            "balanceAmount": 6000 - amount, "cancels": [cancel], **overrides}  # fmt: skip


def test_a_cancelled_payment_whose_last_cancel_is_ours_is_done_at_utc_with_the_psps_balance() -> None:
    answer = judge_cancel(canceled(), "pk_1", Decimal(2000))
    assert answer.outcome is Outcome.DONE
    assert answer.canceled_at == dt.datetime(2026, 11, 25, 3, 0, 0)
    assert answer.balance == Decimal(4000)
    assert judge_cancel(canceled("CANCELED", 6000), "pk_1", Decimal(6000)).outcome is Outcome.DONE


@pytest.mark.parametrize(
    ("payment", "code"),
    [
        (None, "PSP_MALFORMED"),
        (canceled(status="DONE"), "PSP_NOT_CANCELED"),
        (canceled(paymentKey="pk_other"), "PSP_NOT_CANCELED"),
        (canceled(amount=1000), "PSP_CANCEL_MISMATCH"),
        (canceled(cancels=None), "PSP_MALFORMED"),
        (canceled(balanceAmount="x"), "PSP_MALFORMED"),
    ],
)
def test_an_answer_that_does_not_show_our_cancel_is_in_doubt(payment: dict[str, Any] | None, code: str) -> None:
    answer = judge_cancel(payment, "pk_1", Decimal(2000))
    assert (answer.outcome, answer.code) == (Outcome.IN_DOUBT, code)


@pytest.mark.parametrize(
    ("status", "code", "refusal", "error"),
    [
        (403, "NOT_CANCELABLE_AMOUNT", True, OrderError.CANCEL_AMOUNT_REFUSED),
        (400, "NOT_MATCHES_REFUNDABLE_AMOUNT", True, OrderError.CANCEL_AMOUNT_REFUSED),
        (400, "ALREADY_CANCELED_PAYMENT", True, OrderError.ALREADY_CANCELED_AT_PSP),
        (403, "NOT_CANCELABLE_PAYMENT", True, OrderError.CANCEL_NOT_ALLOWED),
        (403, "NOT_ALLOWED_PARTIAL_REFUND", True, OrderError.CANCEL_NOT_ALLOWED),
        (403, "EXCEED_MAX_REFUND_DUE", True, OrderError.CANCEL_NOT_ALLOWED),
        (404, "NOT_FOUND_PAYMENT", True, OrderError.CANCEL_REFUSED),
        (401, "UNAUTHORIZED_KEY", True, OrderError.CANCEL_REFUSED),
        (500, "FAILED_REFUND_PROCESS", False, None),
        (500, "FAILED_METHOD_HANDLING_CANCEL", False, None),
        (429, "TOO_MANY_REQUESTS", False, None),
        (400, "PROVIDER_ERROR", False, None),
        (400, "SOMETHING_NEW", False, None),
    ],
)
def test_only_codes_that_say_nothing_was_cancelled_are_refusals(
    status: int, code: str, refusal: bool, error: OrderError | None
) -> None:
    assert is_refusal(status, code) is refusal
    if error is not None:
        assert refusal_error(code) is error


async def test_the_client_sends_the_amount_and_reason_with_the_cancels_key_and_reads_the_answer() -> None:
    toss, http = client(body(200, canceled()))
    answer = await toss.refund("pk_1", amount=Decimal("2000.00"), reason="changed my mind", idempotency_key=KEY)
    assert answer.outcome is Outcome.DONE
    [sent] = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/payments/pk_1/cancel")
    assert sent.json == {"cancelReason": "changed my mind", "cancelAmount": 2000}
    assert sent.headers == {"Idempotency-Key": KEY}
    assert toss.answered == 1


async def test_a_refusal_is_final_at_once() -> None:
    toss, http = client(error(403, "NOT_CANCELABLE_AMOUNT"), body(200, canceled()))
    answer = await toss.refund("pk_1", amount=Decimal(2000), reason="r", idempotency_key=KEY)
    assert (answer.outcome, answer.code) == (Outcome.REFUSED, "NOT_CANCELABLE_AMOUNT")
    assert len(http.sent) == 1


async def test_answers_in_doubt_are_retried_with_the_same_key_then_reported_in_doubt() -> None:
    failing = error(500, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    toss, http = client(raises(HttpTimeout("slow")), failing, failing)
    answer = await toss.refund("pk_1", amount=Decimal(2000), reason="r", idempotency_key=KEY)
    assert (answer.outcome, answer.code) == (Outcome.IN_DOUBT, "FAILED_INTERNAL_SYSTEM_PROCESSING")
    assert [s.headers["Idempotency-Key"] for s in http.sent] == [KEY] * 3
    assert toss.answered == 0

    toss, http = client(failing, error(409, "IDEMPOTENT_REQUEST_PROCESSING"), body(200, canceled()))
    assert (await toss.refund("pk_1", amount=Decimal(2000), reason="r", idempotency_key=KEY)).outcome is Outcome.DONE
    assert len(http.sent) == 3


def test_an_orders_status_is_derived_from_its_lines_and_its_confirm_stays_as_it_was() -> None:
    order = an_order(status=PaymentStatus.SUCCESS, lines=3, payment_key="pk_1", is_payment_done=True)
    statuses = [order.status]
    order.lines[1].status = PaymentStatus.CANCELED
    statuses.append(order.status)
    assert statuses == [PaymentStatus.SUCCESS, PaymentStatus.PARTIAL_CANCELED]
    assert [line["status"] for line in confirm_payload(order)["paymentOrderList"]] == ["SUCCESS"] * 3
    for line in order.lines:
        line.status = PaymentStatus.CANCELED
    assert order.status is PaymentStatus.CANCELED


async def test_a_cancel_sent_within_a_second_of_the_last_is_sent_again_a_moment_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("kiwishop.order.psp.CONSECUTIVE_WAIT_S", 0.001)
    too_soon = error(403, "FORBIDDEN_CONSECUTIVE_REQUEST")
    toss, http = client(too_soon, too_soon, body(200, canceled()))
    answer = await toss.refund("pk_1", amount=Decimal(2000), reason="r", idempotency_key=KEY)
    assert answer.outcome is Outcome.DONE
    assert [s.headers["Idempotency-Key"] for s in http.sent] == [KEY] * 3


def test_the_payment_canceled_payload_has_exactly_the_contracts_fields() -> None:
    order = an_order(status=PaymentStatus.SUCCESS, lines=3, payment_key="pk_1", is_payment_done=True)
    order.lines[1].status = PaymentStatus.CANCELED
    cancel = Cancel(
        order_id="order-1", cancel_no=1, payment_event_no=1, payment_key="pk_1", lines={101: Decimal(2000)},
        amount=Decimal(2000), reason="r", status=CancelStatus.DONE,
    )  # fmt: skip
    payload = canceled_payload(order, cancel)
    assert set(payload) == PaymentCanceledV1.__required_keys__
    assert all(set(line) == CanceledLineV1.__required_keys__ for line in payload["lines"])
    assert (payload["orderStatus"], payload["cancelAmount"], payload["canceledDateTime"]) == (
        "PARTIAL_CANCELED", sum(line["amount"] for line in payload["lines"]), None,
    )  # fmt: skip

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kiwishop.order.domain import Line, Payment, PaymentStatus, confirm_payload, order_name, seoul_iso
from kiwishop.order.verdicts import Evidence, PspClass, classify, judge_payment, parse_psp_time


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, "REJECT_CARD_COMPANY", PspClass.FINAL),
        (403, "REJECT_CARD_COMPANY", PspClass.FINAL),
        (400, "INVALID_CARD_EXPIRATION", PspClass.FINAL),
        (404, "NOT_FOUND_PAYMENT_SESSION", PspClass.FINAL),
        (401, "UNAUTHORIZED_KEY", PspClass.FINAL),
        (400, "PROVIDER_ERROR", PspClass.RETRY),
        (400, "CARD_PROCESSING_ERROR", PspClass.RETRY),
        (500, "FAILED_INTERNAL_SYSTEM_PROCESSING", PspClass.RETRY),
        (500, "UNKNOWN_PAYMENT_ERROR", PspClass.RETRY),
        (502, None, PspClass.RETRY),
        (429, "TOO_MANY_REQUESTS", PspClass.RETRY),
        (400, "A_CODE_NOBODY_KNOWS", PspClass.RETRY),
        (400, "ALREADY_PROCESSED_PAYMENT", PspClass.RECONCILE),
        (400, "ALREADY_COMPLETED_PAYMENT", PspClass.RECONCILE),
        (409, "IDEMPOTENT_REQUEST_PROCESSING", PspClass.IN_FLIGHT),
        (404, "NOT_FOUND_PAYMENT", PspClass.NOT_FOUND),
    ],
)
def test_toss_answers_are_classified_by_their_retry_class(status: int, code: str | None, expected: PspClass) -> None:
    assert classify(status, code) is expected


def payment_object(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "paymentKey": "pk_1",
        "orderId": "order-1",
        "status": "DONE",
        "totalAmount": 6000,
        "approvedAt": "2026-11-25T11:40:58+09:00",
    }
    body.update(overrides)
    return body


def test_a_done_payment_for_this_order_and_amount_is_an_approval_at_utc() -> None:
    result = judge_payment(payment_object(), "order-1", Decimal("6000.00"), "pk_1")
    assert result.evidence is Evidence.APPROVED
    assert result.approved_at == dt.datetime(2026, 11, 25, 2, 40, 58)


@pytest.mark.parametrize(
    ("overrides", "evidence", "code"),
    [
        ({"orderId": "order-2"}, Evidence.FOREIGN, "PSP_FOREIGN_PAYMENT"),
        ({"paymentKey": "pk_other"}, Evidence.MISMATCH, "PSP_KEY_MISMATCH"),
        ({"totalAmount": 5000}, Evidence.MISMATCH, "PSP_AMOUNT_MISMATCH"),
        ({"status": "IN_PROGRESS"}, Evidence.AUTHORISED, "PSP_NOT_CONFIRMED"),
        ({"status": "IN_PROGRESS", "paymentKey": "pk_other"}, Evidence.IN_DOUBT, "PSP_OTHER_PAYMENT"),
        ({"status": "READY"}, Evidence.IN_DOUBT, "PSP_NOT_DONE"),
        ({"status": "PARTIAL_CANCELED"}, Evidence.ODD, "PSP_PARTIAL_CANCELED"),
        ({"approvedAt": None}, Evidence.IN_DOUBT, "PSP_MALFORMED"),
        ({"totalAmount": "lots"}, Evidence.IN_DOUBT, "PSP_MALFORMED"),
    ],
)
def test_anything_but_a_matching_done_payment_is_no_approval(
    overrides: dict[str, object], evidence: Evidence, code: str
) -> None:
    result = judge_payment(payment_object(**overrides), "order-1", Decimal("6000.00"), "pk_1")
    assert result.evidence is evidence
    assert result.code == code


def test_a_mismatching_approval_names_the_payment_to_cancel() -> None:
    result = judge_payment(payment_object(totalAmount=5000, paymentKey="pk_1"), "order-1", Decimal(6000), "pk_1")
    assert result.payment_key == "pk_1"
    by_order = judge_payment(payment_object(paymentKey="pk_theirs"), "order-1", Decimal(6000), "pk_1")
    assert by_order.payment_key == "pk_theirs"


@pytest.mark.parametrize("status", ["ABORTED", "EXPIRED", "CANCELED"])
def test_aborted_expired_or_canceled_payments_are_declines(status: str) -> None:
    failure = {"code": "EXPIRED_PAYMENT", "message": "expired"} if status == "EXPIRED" else None
    result = judge_payment(payment_object(status=status, failure=failure), "order-1", Decimal(6000), "pk_1")
    assert result.evidence is Evidence.DECLINED
    assert result.code == ("EXPIRED_PAYMENT" if failure else f"PAYMENT_{status}")


def test_psp_times_are_stored_in_utc_and_shown_in_seoul_time() -> None:
    stored = parse_psp_time("2026-01-01T08:00:00+09:00")
    assert stored == dt.datetime(2025, 12, 31, 23, 0, 0)
    assert seoul_iso(stored) == "2026-01-01T08:00:00+09:00"
    assert parse_psp_time("not a time") is None
    assert seoul_iso(None) is None


def test_order_names_append_geuoe_only_for_several_products() -> None:
    assert order_name(["상품A"]) == "상품A"
    assert order_name(["상품A", "상품B", "상품C"]) == "상품A 그외"


def test_the_confirm_payload_carries_the_post_update_state_and_every_line() -> None:
    payment = Payment(
        payment_event_no=10, member_no=1, order_id="order-1", order_name="상품A 그외", total_amount=Decimal("3000.00"),
        payment_key="pk_1", approved_at=dt.datetime(2026, 11, 25, 2, 40, 58), is_payment_done=True,
        is_wallet_done=False, failure_code=None, failure_message=None,
        lines=[
            Line(11, 1, 1, "상품A", Decimal("1000.00"), PaymentStatus.SUCCESS),
            Line(12, 2, 7, "상품B", Decimal("2000.00"), PaymentStatus.SUCCESS),
        ],
    )  # fmt: skip
    payload = confirm_payload(payment)
    assert payload["paymentDone"] is True
    assert payload["paymentKey"] == "pk_1"
    assert payload["approvedDateTime"] == "2026-11-25T11:40:58+09:00"
    assert payload["totalAmount"] == Decimal("3000.00")
    assert payload["paymentOrderList"][1] == {
        "paymentOrderNo": 12, "productNo": 2, "sellerNo": 7, "productName": "상품B", "amount": Decimal("2000.00"),
        "status": "SUCCESS",
    }  # fmt: skip

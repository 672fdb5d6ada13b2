from __future__ import annotations

import datetime as dt
from collections import deque

import pytest

from kiwishop.toss_emulator.cancels import apply_cancel
from kiwishop.toss_emulator.codec import payment_from_text, payment_to_text
from kiwishop.toss_emulator.domain import Payment, PaymentStatus, approve
from kiwishop.toss_emulator.errors import TossError

T0 = dt.datetime(2025, 1, 10, 11, 29, 30, 123456, tzinfo=dt.UTC)


def canceled_twice() -> Payment:
    p = Payment("tgen_20250110112930abcdEFGH1234", "order-0001", "상품A 외 2건", 15000, "4111111111111111", T0)
    p.confirm_errors = deque([TossError.PROVIDER_ERROR, TossError.AMOUNT_MISMATCH])
    approve(p, T0 + dt.timedelta(seconds=3, microseconds=7), approve_no="00012345", transaction_key="TX-APPROVE")
    apply_cancel(p, 1000, "부분 취소", T0 + dt.timedelta(days=1), "TX-CANCEL-1")
    apply_cancel(p, 14000, "나머지", T0 + dt.timedelta(days=2, microseconds=1), "TX-CANCEL-2")
    return p


def test_a_payment_with_cancels_comes_back_equal_in_every_field() -> None:
    original = canceled_twice()
    restored = payment_from_text(payment_to_text(original))
    assert restored == original
    assert (restored.status, restored.balance, len(restored.cancels)) == (PaymentStatus.CANCELED, 0, 2)
    assert [c.balance_after for c in restored.cancels] == [14000, 0]


def test_times_come_back_aware_in_utc_to_the_microsecond() -> None:
    restored = payment_from_text(payment_to_text(canceled_twice()))
    times = [restored.requested_at, restored.approved_at, *(c.canceled_at for c in restored.cancels)]
    assert times == [
        T0,
        T0 + dt.timedelta(seconds=3, microseconds=7),
        T0 + dt.timedelta(days=1),
        T0 + dt.timedelta(days=2, microseconds=1),
    ]
    assert all(t is not None and t.tzinfo is not None and t.utcoffset() == dt.timedelta(0) for t in times)
    assert restored.cancels[1].canceled_at.microsecond == 123457


def test_errors_that_share_a_toss_code_stay_apart() -> None:
    original = canceled_twice()
    original.failure = TossError.AMOUNT_MISMATCH
    restored = payment_from_text(payment_to_text(original))
    assert restored.failure is TossError.AMOUNT_MISMATCH
    assert list(restored.confirm_errors) == [TossError.PROVIDER_ERROR, TossError.AMOUNT_MISMATCH]


def test_a_fresh_payment_keeps_its_balance_and_its_empty_fields() -> None:
    original = Payment("tgen_1", "order-0002", "상품B", 6000, "4111111111111111", T0)
    restored = payment_from_text(payment_to_text(original))
    assert restored == original
    assert (restored.balance, restored.approved_at, restored.failure, restored.cancels) == (6000, None, None, [])


@pytest.mark.parametrize(
    "text",
    ["{}", "[]", '{"paymentKey": 1}', payment_to_text(canceled_twice()).replace('"CANCELED"', '"LOST"')],
)
def test_text_that_is_not_a_stored_payment_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"stored payment|LOST"):
        payment_from_text(text)

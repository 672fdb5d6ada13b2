"""The cancel rules (cancels.py): partial and full cancels, Toss's refusals in their order, and the pace rule
(of two cancels of one payment within a second only the first is processed)."""

from __future__ import annotations

import datetime as dt

import pytest

from kiwishop.toss_emulator.cancels import apply_cancel, cancel_amount, too_soon
from kiwishop.toss_emulator.domain import Payment, PaymentStatus
from kiwishop.toss_emulator.errors import TRANSIENT_CODES, TossError, TossFailure

T0 = dt.datetime(2025, 1, 10, 11, 29, 30, tzinfo=dt.UTC)


def done(amount: int = 6000) -> Payment:
    p = Payment("tgen_1", "order-0001", "상품A", amount, "4111111111111111", T0)
    p.status = PaymentStatus.DONE
    return p


def refusal(p: Payment, requested: int | None = None, refundable: int | None = None, after_s: float = 0) -> TossFailure:
    last = p.cancels[-1].canceled_at if p.cancels else T0
    with pytest.raises(TossFailure) as caught:
        cancel_amount(p, requested, refundable, last + dt.timedelta(seconds=after_s), 1.0)
    return caught.value


def test_pay_6000_cancel_2000_then_the_rest() -> None:
    p = done(6000)
    apply_cancel(p, cancel_amount(p, 2000, None, T0, 1.0), "부분 취소", T0, "TX2")
    assert (p.status, p.balance, p.amount, len(p.cancels)) == (PaymentStatus.PARTIAL_CANCELED, 4000, 6000, 1)
    later = T0 + dt.timedelta(seconds=1)
    apply_cancel(p, cancel_amount(p, None, 4000, later, 1.0), "나머지", later, "TX3")
    assert (p.status, p.balance, p.amount) == (PaymentStatus.CANCELED, 0, 6000)
    assert [(c.amount, c.balance_after) for c in p.cancels] == [(2000, 4000), (4000, 0)]
    assert [c.reason for c in p.cancels] == ["부분 취소", "나머지"]
    assert [c.canceled_at for c in p.cancels] == [T0, later]
    assert p.last_transaction_key == "TX3"


@pytest.mark.parametrize(
    ("status", "requested", "refundable", "error"),
    [
        (PaymentStatus.CANCELED, None, None, TossError.ALREADY_CANCELED_PAYMENT),
        (PaymentStatus.IN_PROGRESS, None, None, TossError.NOT_CANCELABLE_PAYMENT),
        (PaymentStatus.EXPIRED, None, None, TossError.NOT_CANCELABLE_PAYMENT),
        (PaymentStatus.ABORTED, None, None, TossError.NOT_CANCELABLE_PAYMENT),
        (PaymentStatus.DONE, 6001, None, TossError.NOT_CANCELABLE_AMOUNT),
        (PaymentStatus.DONE, 1000, 5000, TossError.NOT_MATCHES_REFUNDABLE_AMOUNT),
    ],
)
def test_a_cancel_is_refused_by_state_and_balance(
    status: PaymentStatus, requested: int | None, refundable: int | None, error: TossError
) -> None:
    p = done()
    p.status = status
    failure = refusal(p, requested, refundable)
    assert (failure.error, failure.transient) == (error, False)


def test_the_refusals_carry_tosss_statuses() -> None:
    statuses = {
        TossError.ALREADY_CANCELED_PAYMENT: 400,
        TossError.NOT_CANCELABLE_PAYMENT: 403,
        TossError.FORBIDDEN_CONSECUTIVE_REQUEST: 403,
        TossError.NOT_MATCHES_REFUNDABLE_AMOUNT: 400,
        TossError.NOT_CANCELABLE_AMOUNT: 403,
    }
    assert {error: error.status for error in statuses} == statuses
    assert "FORBIDDEN_CONSECUTIVE_REQUEST" not in TRANSIENT_CODES  # a confirm error of that code would abort


def test_more_than_is_left_after_a_partial_cancel_is_not_cancelable() -> None:
    p = done(6000)
    apply_cancel(p, 2000, "부분", T0, "TX2")
    assert refusal(p, 4001, after_s=5).error is TossError.NOT_CANCELABLE_AMOUNT
    assert cancel_amount(p, 4000, None, T0 + dt.timedelta(seconds=5), 1.0) == 4000


def test_a_second_cancel_within_the_interval_is_refused_as_transient_and_changes_nothing() -> None:
    p = done(6000)
    apply_cancel(p, 2000, "부분", T0, "TX2")
    failure = refusal(p, 1000, after_s=0.999)
    assert (failure.error, failure.transient) == (TossError.FORBIDDEN_CONSECUTIVE_REQUEST, True)
    assert (p.balance, len(p.cancels)) == (4000, 1)
    assert cancel_amount(p, 1000, None, T0 + dt.timedelta(seconds=1), 1.0) == 1000  # a second later: processed


def test_the_state_refusals_come_before_the_pace_rule() -> None:
    p = done(6000)
    apply_cancel(p, 6000, "전액", T0, "TX2")
    assert refusal(p, after_s=0.1).error is TossError.ALREADY_CANCELED_PAYMENT


def test_the_pace_rule_counts_from_the_last_cancel_only_and_is_skipped_without_a_time() -> None:
    p = done(6000)
    assert not too_soon(p, T0, 1.0)  # no cancel yet
    apply_cancel(p, 1000, "a", T0, "TX2")
    apply_cancel(p, 1000, "b", T0 + dt.timedelta(seconds=10), "TX3")
    assert too_soon(p, T0 + dt.timedelta(seconds=10.5), 1.0)
    assert not too_soon(p, T0 + dt.timedelta(seconds=11), 1.0)
    assert not too_soon(p, T0 + dt.timedelta(seconds=10), 0.0)  # interval 0: never too soon
    assert cancel_amount(p, 1000, None) == 1000  # a cancel at the PSP (no time): no pace rule

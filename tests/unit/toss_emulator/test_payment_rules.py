from __future__ import annotations

import datetime as dt
from collections import deque

import pytest

from kiwishop.toss_emulator.domain import (
    Payment,
    PaymentStatus,
    Timing,
    approve,
    can_reauthorise,
    check_confirm,
    refresh,
    take_injected_failure,
)
from kiwishop.toss_emulator.errors import TossError, TossFailure

T0 = dt.datetime(2025, 1, 10, 11, 29, 30, tzinfo=dt.UTC)
TIMING = Timing(confirm_deadline=dt.timedelta(minutes=10), expire_after=dt.timedelta(minutes=30))


def payment(**changes: object) -> Payment:
    p = Payment("tgen_1", "order-0001", "상품A", 6000, "4111111111111111", T0)
    for name, value in changes.items():
        setattr(p, name, value)
    return p


def confirm_error(p: Payment, order_id: str = "order-0001", amount: int = 6000, after_s: float = 1) -> TossError:
    with pytest.raises(TossFailure) as caught:
        check_confirm(p, order_id, amount, T0 + dt.timedelta(seconds=after_s), TIMING)
    return caught.value.error


def test_a_fresh_payment_passes_the_confirm_checks_until_the_deadline() -> None:
    check_confirm(payment(), "order-0001", 6000, T0 + TIMING.confirm_deadline, TIMING)


def test_another_order_id_is_a_forbidden_request() -> None:
    assert confirm_error(payment(), order_id="order-9999") is TossError.FORBIDDEN_REQUEST


def test_another_amount_is_an_invalid_request_naming_the_amount() -> None:
    error = confirm_error(payment(), amount=5999)
    assert error is TossError.AMOUNT_MISMATCH
    assert (error.code, error.status) == ("INVALID_REQUEST", 400)


def test_a_confirmed_or_canceled_payment_is_already_processed() -> None:
    for status in (PaymentStatus.DONE, PaymentStatus.PARTIAL_CANCELED, PaymentStatus.CANCELED):
        assert confirm_error(payment(status=status)) is TossError.ALREADY_PROCESSED_PAYMENT


def test_confirming_after_the_deadline_finds_no_payment_session() -> None:
    assert confirm_error(payment(), after_s=601) is TossError.NOT_FOUND_PAYMENT_SESSION


def test_an_unconfirmed_payment_expires_after_the_expiry_time() -> None:
    p = payment()
    assert refresh(p, T0 + dt.timedelta(minutes=29, seconds=59), TIMING).status is PaymentStatus.IN_PROGRESS
    assert refresh(p, T0 + dt.timedelta(minutes=30), TIMING).status is PaymentStatus.EXPIRED
    assert p.failure is TossError.EXPIRED_PAYMENT
    assert confirm_error(p, after_s=1800) is TossError.NOT_FOUND_PAYMENT_SESSION


def test_a_confirmed_payment_never_expires() -> None:
    p = payment(status=PaymentStatus.DONE)
    assert refresh(p, T0 + dt.timedelta(days=30), TIMING).status is PaymentStatus.DONE


def test_an_aborted_payment_answers_its_failure_again() -> None:
    p = payment(status=PaymentStatus.ABORTED, failure=TossError.REJECT_CARD_PAYMENT)
    assert confirm_error(p) is TossError.REJECT_CARD_PAYMENT


def test_injected_transient_errors_come_first_and_leave_the_payment_in_progress() -> None:
    p = payment(confirm_errors=deque([TossError.PROVIDER_ERROR, TossError.REJECT_CARD_PAYMENT]))
    with pytest.raises(TossFailure) as first:
        take_injected_failure(p)
    assert (first.value.error, first.value.transient, p.status) == (
        TossError.PROVIDER_ERROR,
        True,
        PaymentStatus.IN_PROGRESS,
    )
    with pytest.raises(TossFailure) as second:
        take_injected_failure(p)
    assert (second.value.error, second.value.transient) == (TossError.REJECT_CARD_PAYMENT, False)
    assert (p.status, p.failure) == (PaymentStatus.ABORTED, TossError.REJECT_CARD_PAYMENT)
    take_injected_failure(p)  # nothing left to inject: no error


def test_approval_records_the_time_number_and_transaction() -> None:
    p = payment()
    approve(p, T0, approve_no="00000001", transaction_key="TX1")
    assert (p.status, p.approved_at, p.approve_no, p.last_transaction_key) == (
        PaymentStatus.DONE,
        T0,
        "00000001",
        "TX1",
    )


def test_only_a_never_confirmed_order_id_may_be_authorised_again() -> None:
    allowed = {s for s in PaymentStatus if can_reauthorise(payment(status=s))}
    assert allowed == {PaymentStatus.IN_PROGRESS, PaymentStatus.EXPIRED, PaymentStatus.ABORTED}

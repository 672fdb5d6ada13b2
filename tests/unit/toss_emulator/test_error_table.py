from __future__ import annotations

import pytest

from kiwishop.toss_emulator.errors import TRANSIENT_CODES, TossError

# A sample of rows of toss.md A4 (HTTP status per code).
A4 = {
    "ALREADY_PROCESSED_PAYMENT": 400,
    "PROVIDER_ERROR": 400,
    "INVALID_REQUEST": 400,
    "CARD_PROCESSING_ERROR": 400,
    "UNAUTHORIZED_KEY": 401,
    "REJECT_CARD_COMPANY": 403,
    "FORBIDDEN_REQUEST": 403,
    "INCORRECT_BASIC_AUTH_FORMAT": 403,
    "NOT_FOUND_PAYMENT": 404,
    "NOT_FOUND_PAYMENT_SESSION": 404,
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": 500,
    "FAILED_INTERNAL_SYSTEM_PROCESSING": 500,
    "UNKNOWN_PAYMENT_ERROR": 500,
    "INVALID_IDEMPOTENCY_KEY": 400,
    "IDEMPOTENT_REQUEST_PROCESSING": 409,
    "ALREADY_CANCELED_PAYMENT": 400,
    "NOT_CANCELABLE_AMOUNT": 403,
    "NOT_CANCELABLE_PAYMENT": 403,
    "FORBIDDEN_CONSECUTIVE_REQUEST": 403,
    "NOT_MATCHES_REFUNDABLE_AMOUNT": 400,
}


@pytest.mark.parametrize(("code", "status"), sorted(A4.items()))
def test_each_code_answers_with_the_status_of_the_toss_table(code: str, status: int) -> None:
    error = TossError.of(code)
    assert error is not None
    assert error.status == status


def test_every_code_has_a_korean_and_an_english_message() -> None:
    for error in TossError:
        assert error.ko
        assert error.en
        assert error.ko != error.en
        assert error.body("ko") == {"code": error.code, "message": error.ko}
        assert error.body("en")["message"] == error.en


def test_a_shared_code_finds_its_generic_member() -> None:
    assert TossError.AMOUNT_MISMATCH.code == "INVALID_REQUEST"
    assert TossError.of("INVALID_REQUEST") is TossError.INVALID_REQUEST
    assert TossError.of("NOT_A_CODE") is None


def test_transient_codes_are_exactly_the_retryable_class_plus_the_in_flight_answer() -> None:
    assert all(TossError.of(code) is not None for code in TRANSIENT_CODES)
    assert "REJECT_CARD_COMPANY" not in TRANSIENT_CODES
    assert "ALREADY_PROCESSED_PAYMENT" not in TRANSIENT_CODES

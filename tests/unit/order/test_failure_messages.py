"""A failed payment's message follows the answer's language; the stored row is what the PSP said."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kiwishop.order.domain import Line, Payment, PaymentStatus
from kiwishop.order.messages import GENERIC_EN, GENERIC_KO, PSP_MESSAGES, failure_text
from kiwishop.order.schemas import PaymentResultOut


def test_a_decline_shows_the_psps_korean_words_by_default_and_english_with_en() -> None:
    stored = "결제 승인이 거절되었습니다."
    assert failure_text("REJECT_CARD_COMPANY", stored, "ko") == stored
    assert failure_text("REJECT_CARD_COMPANY", stored, "en") == "The card company refused the payment."


def test_orders_own_english_verdicts_are_korean_by_default() -> None:
    stored = "the PSP approved 5000 for this order, the order is 6000; cancelled at the PSP"
    assert failure_text("PSP_AMOUNT_MISMATCH", stored, "ko") == PSP_MESSAGES["PSP_AMOUNT_MISMATCH"][0]
    assert failure_text("PSP_AMOUNT_MISMATCH", stored, "en") == PSP_MESSAGES["PSP_AMOUNT_MISMATCH"][1]
    assert failure_text("PAYMENT_ABORTED", "ABORTED", "ko") == "결제가 중단되었습니다."


def test_an_unknown_code_never_shows_the_other_language() -> None:
    assert failure_text("NEW_CODE", "새로운 거절 사유", "ko") == "새로운 거절 사유"
    assert failure_text("NEW_CODE", "새로운 거절 사유", "en") == GENERIC_EN.format(code="NEW_CODE")
    assert failure_text("NEW_CODE", "a new reason", "en") == "a new reason"
    assert failure_text("NEW_CODE", "a new reason", "ko") == GENERIC_KO.format(code="NEW_CODE")
    assert failure_text("NEW_CODE", None, "ko") == GENERIC_KO.format(code="NEW_CODE")


def test_every_korean_text_of_the_table_is_korean_and_every_english_one_ascii() -> None:
    for code, (ko, en) in PSP_MESSAGES.items():
        assert failure_text(code, None, "ko") == ko
        assert en.isascii(), code
        assert not ko.isascii(), code


def failed(code: str, message: str) -> Payment:
    line = Line(1, 1, 1, "상품A", Decimal("1000.00"), PaymentStatus.FAILURE)
    return Payment(
        payment_event_no=1, member_no=1, order_id="order-1", order_name="상품A", total_amount=Decimal("1000.00"),
        payment_key="tgen_1", approved_at=dt.datetime(2026, 1, 1), is_payment_done=False, is_wallet_done=False,
        failure_code=code, failure_message=message, lines=[line],
    )  # fmt: skip


def test_the_payment_result_renders_the_failure_in_the_asked_language() -> None:
    payment = failed("INVALID_CARD_EXPIRATION", "카드 정보를 다시 확인해주세요. (유효기간)")
    korean = PaymentResultOut.of(payment).failure
    english = PaymentResultOut.of(payment, "en").failure
    assert korean is not None
    assert english is not None
    assert (korean.code, korean.message) == ("INVALID_CARD_EXPIRATION", "카드 정보를 다시 확인해주세요. (유효기간)")
    assert (english.code, english.message) == ("INVALID_CARD_EXPIRATION", "Please check the card's expiry date.")
    assert payment.failure_message == "카드 정보를 다시 확인해주세요. (유효기간)"  # the row is never changed

from __future__ import annotations

from kiwishop.platform.errors import AppError, CommonError, ErrorCode, language


class SampleError(ErrorCode):
    OUT_OF_STOCK = ("SMP0001", 409, "재고가 부족합니다: {name}", "Out of stock: {name}")


def test_korean_is_the_default_and_english_is_chosen_by_accept_language() -> None:
    assert language(None) == "ko"
    assert language("ko-KR,ko;q=0.9") == "ko"
    assert language("en-US,en;q=0.9") == "en"
    assert language("fr") == "ko"


def test_an_app_error_renders_code_and_localized_message_with_parameters() -> None:
    err = AppError(SampleError.OUT_OF_STOCK, name="상품A")
    assert err.status == 409
    assert err.body() == {"code": "SMP0001", "message": "재고가 부족합니다: 상품A"}
    assert err.body("en") == {"code": "SMP0001", "message": "Out of stock: 상품A"}


def test_details_are_included_only_when_present() -> None:
    err = AppError(CommonError.INVALID_REQUEST, details=[{"field": "price", "message": "must be > 0"}])
    assert err.body("en")["details"] == [{"field": "price", "message": "must be > 0"}]
    assert "details" not in AppError(CommonError.NOT_FOUND).body()


def test_a_missing_placeholder_falls_back_to_the_template() -> None:
    assert AppError(SampleError.OUT_OF_STOCK).body("en")["message"] == "Out of stock: {name}"

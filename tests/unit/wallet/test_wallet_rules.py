from __future__ import annotations

import pytest

from kiwishop.platform.errors import AppError
from kiwishop.wallet.domain import (
    InvalidPayload,
    PageRequest,
    parse_page,
    parse_wallet_create_requested,
    wallet_created,
    wallet_creation_failed,
)


def test_a_wallet_request_names_saga_seller_number_and_seller_id() -> None:
    request = parse_wallet_create_requested({"sagaId": 7, "sellerNo": 42, "sellerId": "B"})
    assert (request.saga_id, request.seller_no, request.seller_id) == (7, 42, "B")
    assert wallet_created(request, 99) == {"sagaId": 7, "sellerNo": 42, "walletNo": 99, "success": True}
    assert wallet_creation_failed(request, "no") == {"sagaId": 7, "sellerNo": 42, "success": False, "reason": "no"}


@pytest.mark.parametrize(
    "payload",
    [{"sellerNo": 42, "sellerId": "B"}, {"sagaId": 7, "sellerId": "B"}, {"sagaId": 7, "sellerNo": 42, "sellerId": ""}],
)
def test_a_wallet_request_without_its_ids_is_rejected(payload: dict[str, object]) -> None:
    with pytest.raises(InvalidPayload):
        parse_wallet_create_requested(payload)


def test_the_first_page_has_the_default_size_and_no_cursor() -> None:
    assert parse_page(None, None, default=20, maximum=100) == PageRequest(None, 20)
    assert parse_page("", "", default=20, maximum=100) == PageRequest(None, 20)
    assert parse_page("123", "100", default=20, maximum=100) == PageRequest(123, 100)


@pytest.mark.parametrize("limit", ["0", "101", "-1", "x", "1.5", "١"])
def test_a_limit_outside_one_to_the_maximum_is_a_400(limit: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_page(None, limit, default=20, maximum=100)
    assert (caught.value.code.code, caught.value.status) == ("WLT0002", 400)


@pytest.mark.parametrize("cursor", ["abc", "-5", "0", "99999999999999999999", "1.0"])
def test_a_cursor_that_is_not_a_transaction_number_is_a_400(cursor: str) -> None:
    with pytest.raises(AppError) as caught:
        parse_page(cursor, None, default=20, maximum=100)
    assert (caught.value.code.code, caught.value.status) == ("WLT0003", 400)

"""KRW has no minor unit: catalog takes only prices order can charge (whole won)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from kiwishop.catalog.domain import is_whole_won
from kiwishop.catalog.schemas import RegisterProductIn


def body(price: object) -> dict[str, object]:
    return {"sellerNo": 1, "productId": "p", "name": "n", "price": price}


@pytest.mark.parametrize("price", ["12345", "12345.00", "1E+3", "9999999999", "12345.0000"])
def test_whole_won_prices_are_accepted(price: str) -> None:
    assert is_whole_won(Decimal(price))
    assert RegisterProductIn.model_validate(body(price)).price == Decimal(price)


@pytest.mark.parametrize("price", ["12345.67", "0.5", "1.234", "9999999999.5", "1E-9999999"])
def test_a_price_with_a_fraction_of_a_won_is_refused_naming_the_rule(price: str) -> None:
    assert not is_whole_won(Decimal(price))
    with pytest.raises(ValidationError) as caught:
        RegisterProductIn.model_validate(body(price))
    [error] = caught.value.errors()
    assert error["type"] == "whole_won"
    assert error["loc"] == ("price",)
    assert "whole won" in error["msg"]
    assert len(error["msg"]) < 200  # the value is cut short, however many digits it spells
    assert "원 단위" in error["ctx"]["ko"]


@pytest.mark.parametrize(("price", "kind"), [("0", "greater_than"), ("10000000000", "less_than"), ("NaN", None)])
def test_zero_too_large_and_not_a_number_are_refused_too(price: str, kind: str | None) -> None:
    with pytest.raises(ValidationError) as caught:
        RegisterProductIn.model_validate(body(price))
    if kind:
        assert caught.value.errors()[0]["type"] == kind


def test_infinity_and_nan_are_not_whole_won() -> None:
    assert not is_whole_won(Decimal("Infinity"))
    assert not is_whole_won(Decimal("NaN"))

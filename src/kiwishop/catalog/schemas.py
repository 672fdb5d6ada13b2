from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from kiwishop.catalog.domain import PRICE_NOT_WHOLE_WON_EN, PRICE_NOT_WHOLE_WON_KO, Product, is_whole_won
from kiwishop.platform.params import MAX_ID

PRICE_LIMIT = Decimal(10**10)
NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _whole_won(price: Decimal) -> Decimal:
    if not is_whole_won(price):
        shown = str(price)[:40]  # as sent, cut short (1E-9999 must not grow into 9999 digits)
        raise PydanticCustomError("whole_won", PRICE_NOT_WHOLE_WON_EN, {"price": shown, "ko": PRICE_NOT_WHOLE_WON_KO})
    return price


# > 0, whole won (what order can charge), and fits DECIMAL(12,2): below 10^10.
Price = Annotated[Decimal, Field(gt=0, lt=PRICE_LIMIT, allow_inf_nan=False), AfterValidator(_whole_won)]


class ProductOut(BaseModel):
    productNo: int
    sellerNo: int | None
    productId: str
    name: str
    price: Decimal

    @classmethod
    def of(cls, p: Product) -> ProductOut:
        return cls(productNo=p.product_no, sellerNo=p.seller_no, productId=p.product_id, name=p.name, price=p.price)


class ProductListOut(BaseModel):
    productList: list[ProductOut]


class ProductPageOut(BaseModel):
    """A page of every product; ``nextCursor`` is the ``after`` of the next page (null: this is the last)."""

    productList: list[ProductOut]
    nextCursor: str | None


class RegisterProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sellerNo: int = Field(ge=1, le=MAX_ID)
    productId: Annotated[NonBlank, StringConstraints(max_length=255)]
    name: Annotated[NonBlank, StringConstraints(max_length=50)]
    price: Price

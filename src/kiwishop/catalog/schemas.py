from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from kiwishop.catalog.domain import Product
from kiwishop.platform.params import MAX_ID

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


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


class RegisterProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sellerNo: int = Field(ge=1, le=MAX_ID)
    productId: Annotated[NonBlank, StringConstraints(max_length=255)]
    name: Annotated[NonBlank, StringConstraints(max_length=50)]
    price: Decimal = Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False)

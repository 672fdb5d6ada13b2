from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from kiwishop.platform.jsonutil import utc_iso
from kiwishop.seller.domain import Registration, Seller


class RegisterSellerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sellerId: str


class RegistrationAcceptedOut(BaseModel):
    registrationId: int
    sellerId: str
    sellerNo: int
    state: str

    @classmethod
    def of(cls, r: Registration) -> RegistrationAcceptedOut:
        return cls(registrationId=r.registration_id, sellerId=r.seller_id, sellerNo=r.seller_no, state=r.state)


class RegistrationOut(RegistrationAcceptedOut):
    attempts: int
    lastError: str | None

    @classmethod
    def of(cls, r: Registration) -> RegistrationOut:
        return cls(
            registrationId=r.registration_id,
            sellerId=r.seller_id,
            sellerNo=r.seller_no,
            state=r.state,
            attempts=r.attempts,
            lastError=r.last_error,
        )


class SellerOut(BaseModel):
    sellerNo: int
    sellerId: str
    isDeleted: bool
    createdAt: str

    @classmethod
    def of(cls, s: Seller) -> SellerOut:
        return cls(sellerNo=s.seller_no, sellerId=s.seller_id, isDeleted=s.is_deleted, createdAt=utc_iso(s.created_at))

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from kiwishop.platform.jsonutil import utc_iso
from kiwishop.wallet.domain import Wallet, WalletTransaction


class WalletOut(BaseModel):
    walletNo: int
    sellerNo: int
    balance: Decimal = Field(description="Σ CREDIT − Σ DEBIT; below zero when the seller owes canceled lines")
    version: int

    @classmethod
    def of(cls, w: Wallet) -> WalletOut:
        return cls(walletNo=w.wallet_no, sellerNo=w.seller_no, balance=w.balance, version=w.version)


class WalletTransactionOut(BaseModel):
    walletTransactionNo: int
    walletNo: int
    amount: Decimal = Field(description="the line's amount, positive for both types")
    type: str = Field(description="CREDIT (a paid line) or DEBIT (a canceled line taken back)")
    referenceType: str
    referenceId: int
    orderId: str | None
    createdAt: str

    @classmethod
    def of(cls, t: WalletTransaction) -> WalletTransactionOut:
        return cls(
            walletTransactionNo=t.wallet_transaction_no,
            walletNo=t.wallet_no,
            amount=t.amount,
            type=t.type,
            referenceType=t.reference_type,
            referenceId=t.reference_id,
            orderId=t.order_id,
            createdAt=utc_iso(t.created_at),
        )


class WalletTransactionPageOut(BaseModel):
    transactions: list[WalletTransactionOut]
    nextCursor: str | None

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from kiwishop.platform.jsonutil import utc_iso
from kiwishop.wallet.domain import Wallet, WalletTransaction


class WalletOut(BaseModel):
    walletNo: int
    sellerNo: int
    balance: Decimal
    version: int

    @classmethod
    def of(cls, w: Wallet) -> WalletOut:
        return cls(walletNo=w.wallet_no, sellerNo=w.seller_no, balance=w.balance, version=w.version)


class WalletTransactionOut(BaseModel):
    walletTransactionNo: int
    walletNo: int
    amount: Decimal
    type: str
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

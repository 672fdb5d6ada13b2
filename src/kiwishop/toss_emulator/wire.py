"""The Toss Payment object (toss.md A3) as JSON, from the emulator's ``Payment``.

Amounts are JSON integers (KRW has no minor unit); times are ISO-8601 with ``+09:00``; ``cancels`` is null
until the first cancel (as Toss answers), then the list of cancels; ``approvedAt`` is null until DONE.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kiwishop.toss_emulator.domain import Cancel, Payment, PaymentStatus, mask_card, vat_of

KST = dt.timezone(dt.timedelta(hours=9), "KST")
API_VERSION = "2022-11-16"
MID = "tosspayments"
CARD_COMPANY = "61"  # 현대카드 in Toss's card-company codes


def kst_iso(moment: dt.datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(KST).isoformat(timespec="seconds")


def payment_json(p: Payment, lang: str = "ko") -> dict[str, Any]:
    vat = vat_of(p.balance)
    return {
        "mId": MID,
        "lastTransactionKey": p.last_transaction_key,
        "paymentKey": p.payment_key,
        "orderId": p.order_id,
        "orderName": p.order_name,
        "taxExemptionAmount": 0,
        "status": p.status.value,
        "requestedAt": kst_iso(p.requested_at),
        "approvedAt": kst_iso(p.approved_at),
        "useEscrow": False,
        "cultureExpense": False,
        "card": _card(p),
        "virtualAccount": None,
        "transfer": None,
        "mobilePhone": None,
        "giftCertificate": None,
        "cashReceipt": None,
        "cashReceipts": None,
        "discount": None,
        "cancels": [_cancel(c) for c in p.cancels] if p.cancels else None,
        "secret": None,
        "type": "NORMAL",
        "easyPay": None,
        "country": "KR",
        "failure": p.failure.body(lang) if p.failure is not None else None,
        "isPartialCancelable": True,
        "receipt": {"url": f"https://dashboard.tosspayments.com/receipt/redirection?transactionId={p.payment_key}"},
        "checkout": {"url": f"https://api.tosspayments.com/v1/payments/{p.payment_key}/checkout"},
        "currency": "KRW",
        "totalAmount": p.amount,
        "balanceAmount": p.balance,
        "suppliedAmount": p.balance - vat,
        "vat": vat,
        "taxFreeAmount": 0,
        "metadata": None,
        "method": "카드",
        "version": API_VERSION,
    }


def _card(p: Payment) -> dict[str, Any]:
    if p.status is PaymentStatus.CANCELED:
        acquire_status = "CANCELED"
    elif p.status is PaymentStatus.PARTIAL_CANCELED:
        acquire_status = "CANCEL_REQUESTED"
    else:
        acquire_status = "READY"
    return {
        "issuerCode": CARD_COMPANY,
        "acquirerCode": CARD_COMPANY,
        "number": mask_card(p.card_digits),
        "installmentPlanMonths": 0,
        "isInterestFree": False,
        "interestPayer": None,
        "approveNo": p.approve_no,
        "useCardPoint": False,
        "cardType": "신용",
        "ownerType": "개인",
        "acquireStatus": acquire_status,
        "amount": p.amount,
    }


def _cancel(c: Cancel) -> dict[str, Any]:
    return {
        "transactionKey": c.transaction_key,
        "cancelReason": c.reason,
        "taxExemptionAmount": 0,
        "canceledAt": kst_iso(c.canceled_at),
        "easyPayDiscountAmount": 0,
        "receiptKey": f"rcpt_{c.transaction_key[:20]}",
        "cancelAmount": c.amount,
        "taxFreeAmount": 0,
        "refundableAmount": c.balance_after,
        "cancelStatus": "DONE",
        "cancelRequestId": None,
    }

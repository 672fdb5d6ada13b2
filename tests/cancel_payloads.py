"""PAYMENT_CANCELED for the read models' tests (order-query, hot-catalog), built from the PAYMENT_CONFIRM of the
order it cancels (``tests.payloads.payment_confirm``): the canceled lines are that order's lines, with their
sellers, products and amounts; ``cancelAmount`` is their sum and ``orderStatus`` says what is left. Checked
against the contract (``contracts.events.PaymentCanceledV1``, every field of exactly its type), sent through
the outbox's encoding and decoded as a consumer does. A test that wants a malformed or unusual event changes
this one on purpose (``**changes``, applied after the check).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from kiwishop.contracts.events import PAYMENT_CANCELED, PaymentCanceledV1
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from tests.payloads import conforms, on_the_wire

_IDS = Snowflake(1002)
CANCELED_AT = "2026-11-26T10:15:00+09:00"  # Asia/Seoul, as the PSP's canceledAt


def check_payment_canceled(payload: Any) -> None:
    """The payload is a ``PaymentCanceledV1`` exactly as a consumer decodes it; ``ValueError`` otherwise."""
    conforms(payload, PaymentCanceledV1, "PAYMENT_CANCELED")


def payment_canceled(
    confirm: Envelope,
    canceled: Iterable[int],
    *,
    already_canceled: Iterable[int] = (),
    cancel_no: int = 1,
    event_id: int | None = None,
    reason: str = "고객 요청",
    **changes: Any,
) -> Envelope:
    """PAYMENT_CANCELED of the order ``confirm`` paid, for its lines numbered ``canceled`` (paymentOrderNos);
    ``already_canceled`` names the lines earlier cancels gave back (for ``orderStatus``)."""
    paid = confirm.payload
    wanted = list(canceled)
    by_number = {line["paymentOrderNo"]: line for line in paid["paymentOrderList"]}
    if not wanted or any(number not in by_number for number in wanted):
        raise ValueError(f"lines {wanted} are not lines of order {paid['orderId']}")
    lines = [
        {
            "paymentOrderNo": number,
            "productNo": by_number[number]["productNo"],
            "sellerNo": by_number[number]["sellerNo"],
            "amount": by_number[number]["amount"],
        }
        for number in wanted
    ]
    gone = set(wanted) | set(already_canceled)
    body: PaymentCanceledV1 = {
        "paymentEventNo": paid["paymentEventNo"],
        "memberNo": paid["memberNo"],
        "orderId": paid["orderId"],
        "paymentKey": paid["paymentKey"],
        "cancelNo": cancel_no,
        "cancelReason": reason,
        "canceledDateTime": CANCELED_AT,
        "cancelAmount": sum((line["amount"] for line in lines), Decimal("0.00")),
        "lines": lines,  # type: ignore[typeddict-item]
        "orderStatus": "CANCELED" if gone >= set(by_number) else "PARTIAL_CANCELED",
    }
    envelope = Envelope(event_id or _IDS.next_id(), PAYMENT_CANCELED.name, dict(body), paid["orderId"])
    sent = on_the_wire(envelope)
    check_payment_canceled(sent.payload)
    if changes:
        return Envelope(sent.event_id, sent.type, {**sent.payload, **changes}, sent.key, sent.occurred_at)
    return sent

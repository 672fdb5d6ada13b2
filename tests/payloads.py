"""PAYMENT_CONFIRM (and PAYMENT_CANCELED) for the consumers' tests, as order really sends it.

``payment_confirm`` builds the payload with order's own function (``order.domain.payment_confirmed`` over an
order's rows), sends it through the outbox's encoding and decodes it as a consumer does, and checks it
against the contract (``contracts.events.PaymentConfirmV1``, ``check_payment_confirm``). A consumer's test
that wants a malformed or unusual event changes this one on purpose (``**changes``), so what it changes is
visible; it never writes a look-alike by hand that order would not send.

``payment_canceled`` builds a cancel of some lines of such an order from the same rows (``paid_order``), by
the contract's fields (``contracts.events.PaymentCanceledV1``), encoded and checked the same way.
"""

from __future__ import annotations

import datetime as dt
import itertools
import types
import typing
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kiwishop.contracts.events import PAYMENT_CANCELED, PAYMENT_CONFIRM, PaymentCanceledV1, PaymentConfirmV1
from kiwishop.order.domain import Line, Payment, PaymentStatus, order_name, payment_confirmed
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import outbox_row

_IDS = Snowflake(1001)
_NUMBERS = itertools.count(1)
APPROVED_AT = dt.datetime(2026, 11, 25, 2, 40, 58)  # UTC, as order stores it
CANCELED_AT = "2026-11-25T12:10:58+09:00"  # the PSP's canceledAt, Asia/Seoul


@dataclass(frozen=True)
class ConfirmLine:
    """One payment order line: what order stores per product of an order."""

    payment_order_no: int
    seller_no: int
    amount: Decimal | str | int
    status: str = "SUCCESS"
    product_no: int = 1
    product_name: str = "상품A"


def check_payment_confirm(payload: Mapping[str, Any]) -> None:
    """The payload is a ``PaymentConfirmV1`` exactly as a consumer decodes it: every field of the TypedDict and no
    other, each of exactly its type (money a ``Decimal``, never a float or a numeric string; an id an ``int``,
    never a ``bool``), each line a ``PaymentOrderLineV1`` likewise; raises ``ValueError`` otherwise.

    (pydantic cannot read ``typing.TypedDict`` before Python 3.12, and the contracts are stdlib only: the
    TypedDict's own annotations are the schema, checked here.)"""
    conforms(payload, PaymentConfirmV1, "PAYMENT_CONFIRM")


def conforms(value: object, expected: Any, where: str) -> None:
    """``value`` has exactly type ``expected`` (a TypedDict, ``list[...]``, a union, a ``Literal`` or a class)."""
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if typing.is_typeddict(expected):
        if not isinstance(value, Mapping):
            raise ValueError(f"{where}: an object expected, got {value!r}")
        hints = typing.get_type_hints(expected)
        if set(value) != set(hints):
            raise ValueError(f"{where}: fields {sorted(value)}, the contract has {sorted(hints)}")
        for name, hint in hints.items():
            conforms(value[name], hint, f"{where}.{name}")
    elif origin is list:
        if not isinstance(value, list):
            raise ValueError(f"{where}: a list expected, got {value!r}")
        for i, item in enumerate(value):
            conforms(item, args[0], f"{where}[{i}]")
    elif origin in (typing.Union, types.UnionType):
        errors = []
        for option in args:
            try:
                conforms(value, option, where)
                return
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(" / ".join(errors))
    elif origin is typing.Literal:
        if not any(type(value) is type(a) and value == a for a in args):
            raise ValueError(f"{where}: one of {args} expected, got {value!r}")
    elif expected is None or expected is type(None):
        if value is not None:
            raise ValueError(f"{where}: null expected, got {value!r}")
    elif type(value) is not expected:  # exact: a bool is no int, a float no Decimal
        raise ValueError(f"{where}: {expected.__name__} expected, got {type(value).__name__} {value!r}")


def on_the_wire(envelope: Envelope, topic: str = "kiwi-shop-payment") -> Envelope:
    """The envelope as a consumer gets it: encoded by the outbox, decoded from the record."""
    _, row = outbox_row(
        _IDS, topic=topic, key=envelope.key, event_type=envelope.type, payload=envelope.payload,
        idempotency_key=None, event_id=envelope.event_id,
    )  # fmt: skip
    return Envelope.from_record(envelope.key.encode(), str(row["payload"]).encode())


def _money(value: Decimal | str | int) -> Decimal:
    """As order's DECIMAL(12,2) columns hold it: two decimals (more only when a test gives more on purpose)."""
    amount = Decimal(value)
    exponent = amount.as_tuple().exponent
    return amount.quantize(Decimal("0.01")) if isinstance(exponent, int) and exponent > -2 else amount


def paid_order(
    order_id: str,
    lines: Iterable[ConfirmLine],
    *,
    payment_event_no: int | None = None,
    member_no: int = 1,
    payment_key: str | None = None,
) -> Payment:
    """An order's rows as order holds them once the PSP approved it."""
    number = payment_event_no or _IDS.next_id()
    order_lines = [
        Line(
            payment_order_no=line.payment_order_no,
            product_no=line.product_no,
            seller_no=line.seller_no,
            product_name=line.product_name,
            amount=_money(line.amount),
            status=PaymentStatus(line.status),
        )
        for line in lines
    ]
    return Payment(
        payment_event_no=number,
        member_no=member_no,
        order_id=order_id,
        order_name=order_name([line.product_name for line in order_lines]),
        total_amount=sum((line.amount for line in order_lines), Decimal("0.00")),
        payment_key=payment_key or f"tgen_{number}",
        approved_at=APPROVED_AT,
        is_payment_done=all(line.status is PaymentStatus.SUCCESS for line in order_lines),
        is_wallet_done=False,
        failure_code=None,
        failure_message=None,
        lines=order_lines,
        confirm_event_id=_IDS.next_id(),
    )


def payment_confirm(
    order_id: str,
    lines: Iterable[ConfirmLine],
    *,
    event_id: int | None = None,
    payment_event_no: int | None = None,
    member_no: int = 1,
    payment_key: str | None = None,
    **changes: Any,
) -> Envelope:
    """PAYMENT_CONFIRM of a paid order with ``lines``, built and encoded by order's own code and checked against
    the contract, then (only if asked) changed: ``changes`` replace payload fields after the check."""
    payment = paid_order(
        order_id, lines, payment_event_no=payment_event_no, member_no=member_no, payment_key=payment_key
    )
    event = payment_confirmed(payment)
    sent = on_the_wire(Envelope(event_id or event.event_id or _IDS.next_id(), event.type, event.payload, event.key))
    assert sent.type == PAYMENT_CONFIRM.name
    check_payment_confirm(sent.payload)
    if changes:
        return Envelope(sent.event_id, sent.type, {**sent.payload, **changes}, sent.key, sent.occurred_at)
    return sent


def lines_of(*products: int, seller_no: int = 1, amount: Decimal | str | int = "1000.00") -> list[ConfirmLine]:
    """SUCCESS lines, one per product, of one seller, with new paymentOrderNos."""
    return [
        ConfirmLine(next(_NUMBERS) + 1_000_000, seller_no, amount, product_no=p, product_name=f"상품{p}")
        for p in products
    ]


def payment_canceled(
    order_id: str,
    lines: Iterable[ConfirmLine],
    canceled: Iterable[ConfirmLine],
    /,
    *,
    cancel_no: int = 1,
    earlier: Iterable[ConfirmLine] = (),
    event_id: int | None = None,
    payment_event_no: int | None = None,
    member_no: int = 1,
    payment_key: str | None = None,
    reason: str = "고객 변심",
    **changes: Any,
) -> Envelope:
    """PAYMENT_CANCELED of the lines ``canceled`` (whole) of the paid order with ``lines`` — its ``cancel_no``-th
    cancel, after the ``earlier`` ones — from the order's rows, encoded and checked against the contract, then
    (only if asked) changed: ``changes`` replace payload fields after the check."""
    payment = paid_order(
        order_id, lines, payment_event_no=payment_event_no, member_no=member_no, payment_key=payment_key
    )
    chosen = {line.payment_order_no for line in canceled}
    gone = [line for line in payment.lines if line.payment_order_no in chosen]  # in the order's line order
    if not gone or len(gone) != len(chosen):
        raise ValueError(f"lines {sorted(chosen)} are not lines of order {order_id}")
    after = chosen | {line.payment_order_no for line in earlier}
    payload: PaymentCanceledV1 = {
        "paymentEventNo": payment.payment_event_no,
        "memberNo": payment.member_no,
        "orderId": payment.order_id,
        "paymentKey": str(payment.payment_key),
        "cancelNo": cancel_no,
        "cancelReason": reason,
        "canceledDateTime": CANCELED_AT,
        "cancelAmount": sum((line.amount for line in gone), Decimal("0.00")),
        "lines": [
            {"paymentOrderNo": line.payment_order_no, "productNo": line.product_no, "sellerNo": line.seller_no,
             "amount": line.amount}
            for line in gone
        ],
        "orderStatus": "CANCELED" if after >= {line.payment_order_no for line in payment.lines} else "PARTIAL_CANCELED",
    }  # fmt: skip
    sent = on_the_wire(Envelope(event_id or _IDS.next_id(), PAYMENT_CANCELED.name, dict(payload), order_id))
    conforms(sent.payload, PaymentCanceledV1, "PAYMENT_CANCELED")
    if changes:
        return Envelope(sent.event_id, sent.type, {**sent.payload, **changes}, sent.key, sent.occurred_at)
    return sent
